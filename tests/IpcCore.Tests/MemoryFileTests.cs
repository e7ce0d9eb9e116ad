using IpcCore.Native;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
public sealed class MemoryFileTests
{
    [Test]
    public void Create_makes_a_zeroed_file_of_the_size_with_no_seals_and_its_label_in_proc()
    {
        using MemoryFile file = MemoryFile.Create("ipccore-test-create", 4096);

        Assert.That(file.Size, Is.EqualTo(4096));
        Assert.That(file.GetSeals(), Is.EqualTo(FileSeals.None));
        Assert.That(file.Label, Is.EqualTo("ipccore-test-create"));
        Assert.That(new FileInfo($"/proc/self/fd/{file.Handle.Fd}").LinkTarget, Does.StartWith("/memfd:ipccore-test-create"));
        using MappedRegion map = file.Map(readOnly: true);
        Assert.That(map.ReadOnlySpan.ContainsAnyExcept((byte)0), Is.False);
    }

    [Test]
    public void Write_appends_at_the_file_position_and_a_mapping_sees_the_bytes()
    {
        using MemoryFile file = MemoryFile.Create("ipccore-test-write");

        file.Write("hello "u8);
        file.Write("memfd"u8);

        Assert.That(file.Size, Is.EqualTo(11));
        using MappedRegion map = file.Map(readOnly: true);
        Assert.That(map.ReadOnlySpan.SequenceEqual("hello memfd"u8), Is.True);
    }

    [Test]
    public void Two_mappings_share_the_same_memory()
    {
        using MemoryFile file = MemoryFile.Create("ipccore-test-share", 64);
        using MappedRegion writer = file.Map();
        using MappedRegion reader = file.Map(readOnly: true);

        writer.Span[5] = 77;

        Assert.That(reader.ReadOnlySpan[5], Is.EqualTo(77));
    }

    [Test]
    public void Immutable_seals_stop_every_change_but_read_only_mapping()
    {
        using MemoryFile file = MemoryFile.Create("ipccore-test-seal", 16);
        file.Write("sealed!"u8);

        file.AddSeals(FileSeals.Immutable);

        Assert.That(file.GetSeals(), Is.EqualTo(FileSeals.Immutable));
        Assert.That(Assert.Throws<IpcException>(() => file.Write("x"u8))!.Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(Assert.Throws<IpcException>(() => file.SetSize(32))!.Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(Assert.Throws<IpcException>(() => file.SetSize(8))!.Errno, Is.EqualTo(Errno.EPERM));
        IpcException? map = Assert.Throws<IpcException>(() => file.Map());
        Assert.That(map!.Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(map.Message, Does.StartWith("mmap('memfd:ipccore-test-seal'): EPERM"));
        IpcException? more = Assert.Throws<IpcException>(() => file.AddSeals(FileSeals.FutureWrite));
        Assert.That(more!.Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(more.Operation, Is.EqualTo("fcntl(F_ADD_SEALS)"));

        using MappedRegion readOnly = file.Map(readOnly: true);
        Assert.That(readOnly.ReadOnlySpan[..7].SequenceEqual("sealed!"u8), Is.True);
    }

    [Test]
    public void Grow_and_shrink_seals_fix_the_size_but_allow_writes_inside_it()
    {
        using MemoryFile file = MemoryFile.Create("ipccore-test-size", 4);
        file.AddSeals(FileSeals.Grow | FileSeals.Shrink);

        file.Write("abcd"u8);

        Assert.That(Assert.Throws<IpcException>(() => file.Write("e"u8))!.Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(file.Size, Is.EqualTo(4));
    }

    [Test]
    public void The_write_seal_cannot_be_added_while_a_writable_mapping_exists()
    {
        using MemoryFile file = MemoryFile.Create("ipccore-test-busy", 4096);
        MappedRegion writable = file.Map();

        IpcException? e = Assert.Throws<IpcException>(() => file.AddSeals(FileSeals.Write));
        writable.Dispose();
        file.AddSeals(FileSeals.Write);

        Assert.That(e!.Errno, Is.EqualTo(Errno.EBUSY));
        Assert.That(file.GetSeals(), Is.EqualTo(FileSeals.Write));
    }

    [Test]
    public void Without_allowSealing_the_file_is_born_sealed_against_seals()
    {
        using MemoryFile file = MemoryFile.Create("ipccore-test-nosealing", 16, allowSealing: false);

        Assert.That(file.GetSeals(), Is.EqualTo(FileSeals.Seal));
        Assert.That(Assert.Throws<IpcException>(() => file.AddSeals(FileSeals.Write))!.Errno, Is.EqualTo(Errno.EPERM));
    }

    [Test]
    public void A_mapping_outlives_the_descriptor()
    {
        MappedRegion map;
        using (MemoryFile file = MemoryFile.Create("ipccore-test-outlive", 128))
        {
            map = file.Map();
        }
        using (map)
        {
            map.Span[127] = 3;
            Assert.That(map.Span[127], Is.EqualTo(3));
        }
    }

    [Test]
    public void Mapping_an_empty_file_fails_with_EINVAL_saying_it_is_empty()
    {
        using MemoryFile file = MemoryFile.Create("ipccore-test-empty");

        IpcException? e = Assert.Throws<IpcException>(() => file.Map());

        Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(e.Message, Does.Contain("empty"));
    }

    [Test]
    public void FromHandle_takes_over_a_descriptor()
    {
        using MemoryFile original = MemoryFile.Create("ipccore-test-handle", 8);
        original.Write("original"u8);
        int duplicate = Dup(original.Handle.Fd);

        using MemoryFile received = MemoryFile.FromHandle(new SafeFdHandle(duplicate), "dup");

        Assert.That(received.Size, Is.EqualTo(8));
        received.AddSeals(FileSeals.Write);
        Assert.That(original.GetSeals(), Is.EqualTo(FileSeals.Write));
        using var invalid = new SafeFdHandle();
        Assert.Throws<ArgumentException>(() => MemoryFile.FromHandle(invalid));
    }

    [Test]
    public void A_disposed_file_throws_ObjectDisposedException()
    {
        MemoryFile file = MemoryFile.Create("ipccore-test-disposed", 8);
        file.Dispose();
        file.Dispose();

        Assert.Throws<ObjectDisposedException>(() => file.Write("x"u8));
        Assert.Throws<ObjectDisposedException>(() => file.AddSeals(FileSeals.Seal));
        Assert.Throws<ObjectDisposedException>(() => file.GetSeals());
        Assert.Throws<ObjectDisposedException>(() => file.SetSize(1));
        Assert.Throws<ObjectDisposedException>(() => _ = file.Size);
        Assert.Throws<ObjectDisposedException>(() => file.Map());
    }

    // /proc/self/fd/N reopened gives a second descriptor of the same memfd, as SCM_RIGHTS would.
    private static int Dup(int fd)
        => IpcError.Check(IpcNative.Open($"/proc/self/fd/{fd}", (int)OpenFlags.O_RDWR, 0), "open", "dup");
}
