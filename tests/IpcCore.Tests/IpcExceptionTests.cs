using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
public sealed class IpcExceptionTests
{
    private const string Tag = "ipcex";

    [OneTimeTearDown]
    public void NothingLeftBehind() => Assert.That(PosixLeaks.Find(Tag), Is.Empty);

    [Test]
    public void A_failed_call_names_the_operation_the_object_and_the_errno()
    {
        string name = TestNames.Posix($"{Tag}-exists");
        try
        {
            using MessageQueue first = MessageQueue.Create(name, 1, 16);

            IpcException? e = Assert.Throws<IpcException>(() => MessageQueue.Create(name, 1, 16));

            Assert.That(e!.Message, Is.EqualTo($"mq_open('{name}'): EEXIST (File exists)"));
            Assert.That(e.Operation, Is.EqualTo("mq_open"));
            Assert.That(e.ObjectName, Is.EqualTo(name));
            Assert.That(e.ErrorNumber, Is.EqualTo(17));
            Assert.That(e.Errno, Is.EqualTo(Errno.EEXIST));
            Assert.That(e.ErrnoName, Is.EqualTo("EEXIST"));
            Assert.That(e.ErrnoDescription, Is.EqualTo("File exists"));
            Assert.That(e, Is.InstanceOf<IOException>());
            Assert.That(e.HResult, Is.EqualTo(17));
        }
        finally
        {
            MessageQueue.TryUnlink(name);
        }
    }

    [Test]
    public void ENOENT_from_shm_open_reads_like_the_C_library()
    {
        string name = TestNames.Posix($"{Tag}-missing");

        IpcException? e = Assert.Throws<IpcException>(() => SharedMemory.Open(name));

        Assert.That(e!.Message, Is.EqualTo($"shm_open('{name}'): ENOENT (No such file or directory)"));
        Assert.That(e.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(e.ErrnoName, Is.EqualTo("ENOENT"));
        Assert.That(e.ErrnoDescription, Is.EqualTo("No such file or directory"));
    }

    [TestCase("mq_open", "/ipchub.t1.in", 17, "mq_open('/ipchub.t1.in'): EEXIST (File exists)")]
    [TestCase("futex", null, 22, "futex(): EINVAL (Invalid argument)")]
    [TestCase("sem_clockwait", "/s", 110, "sem_clockwait('/s'): ETIMEDOUT (Connection timed out)")]
    [TestCase("mq_timedsend", "/q", 90, "mq_timedsend('/q'): EMSGSIZE (Message too long)")]
    [TestCase("sem_trywait", "/s", 11, "sem_trywait('/s'): EAGAIN (Resource temporarily unavailable)")]
    public void The_message_has_the_shape_operation_object_name_description(string operation, string? objectName, int errno, string expected)
    {
        var e = new IpcException(operation, objectName, errno);

        Assert.That(e.Message, Is.EqualTo(expected));
        Assert.That(e.ErrorNumber, Is.EqualTo(errno));
        Assert.That(e.Errno, Is.EqualTo((Errno)errno));
    }

    [Test]
    public void IpcError_Check_passes_results_through_and_throws_for_negative_errno()
    {
        Assert.That(IpcError.Check(0, "op"), Is.Zero);
        Assert.That(IpcError.Check(42, "op", "obj"), Is.EqualTo(42));

        IpcException? e = Assert.Throws<IpcException>(() => IpcError.Check(-(int)Errno.EACCES, "shm_open", "/x"));
        Assert.That(e!.Message, Is.EqualTo("shm_open('/x'): EACCES (Permission denied)"));
        Assert.That(IpcError.Create(-(int)Errno.EPIPE, "write", "fifo").Errno, Is.EqualTo(Errno.EPIPE));
    }

    [Test]
    public void ErrnoText_names_and_describes_errno_values()
    {
        Assert.That(ErrnoText.NameOf((int)Errno.ETIMEDOUT), Is.EqualTo("ETIMEDOUT"));
        Assert.That(ErrnoText.NameOf((int)Errno.EMSGSIZE), Is.EqualTo("EMSGSIZE"));
        Assert.That(ErrnoText.DescribeOf((int)Errno.EACCES), Is.EqualTo("Permission denied"));
        Assert.That(ErrnoText.NameOf(4000), Is.EqualTo("E4000"));
        Assert.That(ErrnoText.DescribeOf(4000), Is.Not.Empty);
    }

    [Test]
    public void The_custom_message_constructor_keeps_the_errno()
    {
        var e = new IpcException("mq_open", "/q", 22, "mq_open('/q'): EINVAL (Invalid argument) (limit: msg_max 10, msgsize_max 8192)");

        Assert.That(e.Message, Does.EndWith("(limit: msg_max 10, msgsize_max 8192)"));
        Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(e.ObjectName, Is.EqualTo("/q"));
    }
}
