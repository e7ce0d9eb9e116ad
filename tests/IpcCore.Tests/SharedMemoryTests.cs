using System.Runtime.Versioning;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
[SupportedOSPlatform("linux")]
public sealed class SharedMemoryTests
{
    private const string Tag = "shm";
    private readonly List<string> _names = [];

    [TearDown]
    public void UnlinkNames()
    {
        foreach (string name in _names)
        {
            SharedMemory.TryUnlink(name);
        }
        _names.Clear();
    }

    [OneTimeTearDown]
    public void NothingLeftBehind() => Assert.That(PosixLeaks.Find(Tag), Is.Empty);

    [Test]
    public void Create_makes_a_zeroed_object_of_the_size_in_dev_shm_with_the_mode_applied_exactly()
    {
        string name = NewName("create");
        const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        using SharedMemory shm = SharedMemory.Create(name, 10_000, Mode);
        string path = "/dev/shm" + name;

        Assert.That(shm.Name, Is.EqualTo(name));
        Assert.That(shm.Size, Is.EqualTo(10_000));
        Assert.That(shm.Span.Length, Is.EqualTo(10_000));
        Assert.That(shm.Span.ContainsAnyExcept((byte)0), Is.False);
        Assert.That(new FileInfo(path).Length, Is.EqualTo(10_000));
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(Mode));
    }

    [Test]
    public void Two_mappings_of_one_object_see_each_others_writes()
    {
        string name = NewName("share");
        using SharedMemory writer = SharedMemory.Create(name, 4096);
        using SharedMemory reader = SharedMemory.Open(name, writable: false);

        "hello, shared world"u8.CopyTo(writer.Span[100..]);

        Assert.That(reader.Size, Is.EqualTo(4096));
        Assert.That(reader.Region.IsWritable, Is.False);
        Assert.That(reader.Region.ReadOnlySpan.Slice(100, 19).SequenceEqual("hello, shared world"u8), Is.True);
    }

    [Test]
    public void A_read_only_mapping_refuses_a_writable_span()
    {
        string name = NewName("readonly");
        using SharedMemory creator = SharedMemory.Create(name, 64);
        using SharedMemory reader = SharedMemory.Open(name, writable: false);

        Assert.Throws<InvalidOperationException>(() => _ = reader.Span.Length);
        Assert.That(reader.Region.ReadOnlySpan.Length, Is.EqualTo(64));
    }

    [Test]
    public void The_region_is_a_SafeBuffer_over_the_mapping()
    {
        using SharedMemory shm = SharedMemory.Create(NewName("safebuffer"), 4096);
        SafeMappedRegionHandle handle = shm.Region.Handle;

        handle.Write<uint>(8, 0xDEADBEEF);

        Assert.That(handle.ByteLength, Is.EqualTo(4096UL));
        Assert.That(BitConverter.ToUInt32(shm.Span[8..12]), Is.EqualTo(0xDEADBEEF));
        Assert.That(handle.Read<uint>(8), Is.EqualTo(0xDEADBEEF));
        Assert.Throws<ArgumentException>(() => handle.Read<ulong>(4092));
    }

    [Test]
    public void GetSpan_slices_within_bounds_only()
    {
        using SharedMemory shm = SharedMemory.Create(NewName("slice"), 100);

        shm.Region.GetSpan(90, 10).Fill(7);

        Assert.That(shm.Span[90], Is.EqualTo(7));
        Assert.That(shm.Span[89], Is.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => shm.Region.GetSpan(91, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => shm.Region.GetSpan(-1, 1));
    }

    [Test]
    public void Create_exclusive_on_an_existing_name_fails_with_EEXIST_and_leaves_the_object_alone()
    {
        string name = NewName("exists");
        using SharedMemory first = SharedMemory.Create(name, 128);
        first.Span[0] = 42;

        IpcException? e = Assert.Throws<IpcException>(() => SharedMemory.Create(name, 256));

        Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(e.Message, Is.EqualTo($"shm_open('{name}'): EEXIST (File exists)"));
        Assert.That(new FileInfo("/dev/shm" + name).Length, Is.EqualTo(128));
        Assert.That(first.Span[0], Is.EqualTo(42));
    }

    [Test]
    public void Create_non_exclusive_opens_the_existing_object_and_grows_but_never_shrinks_it()
    {
        string name = NewName("shared");
        using SharedMemory first = SharedMemory.Create(name, 4096);
        first.Span[10] = 9;

        using SharedMemory smaller = SharedMemory.Create(name, 100, exclusive: false);
        Assert.That(smaller.Size, Is.EqualTo(100));
        Assert.That(smaller.Span[10], Is.EqualTo(9));
        Assert.That(new FileInfo("/dev/shm" + name).Length, Is.EqualTo(4096));

        using SharedMemory larger = SharedMemory.Create(name, 8192, exclusive: false);
        Assert.That(larger.Span[10], Is.EqualTo(9));
        Assert.That(new FileInfo("/dev/shm" + name).Length, Is.EqualTo(8192));
    }

    [Test]
    public void Open_and_Unlink_of_a_missing_object_fail_with_ENOENT_and_TryUnlink_returns_false()
    {
        string name = NewName("missing");

        IpcException? open = Assert.Throws<IpcException>(() => SharedMemory.Open(name));
        IpcException? unlink = Assert.Throws<IpcException>(() => SharedMemory.Unlink(name));

        Assert.That(open!.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(open.Message, Is.EqualTo($"shm_open('{name}'): ENOENT (No such file or directory)"));
        Assert.That(unlink!.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(unlink.Operation, Is.EqualTo("shm_unlink"));
        Assert.That(SharedMemory.TryUnlink(name), Is.False);
    }

    [Test]
    public void Unlink_removes_the_name_but_the_mapping_stays_usable()
    {
        string name = NewName("unlink");
        using SharedMemory shm = SharedMemory.Create(name, 64);

        SharedMemory.Unlink(name);

        Assert.That(File.Exists("/dev/shm" + name), Is.False);
        shm.Span[63] = 1;
        Assert.That(shm.Span[63], Is.EqualTo(1));
    }

    [Test]
    public void A_failed_create_leaves_nothing_behind()
    {
        string name = NewName("too-big");

        // No system can map 2^62 bytes: ftruncate or mmap fails after shm_open created the object.
        IpcException? e = Assert.Throws<IpcException>(() => SharedMemory.Create(name, 1L << 62));

        Assert.That(e!.Operation, Is.AnyOf("ftruncate", "mmap"));
        Assert.That(File.Exists("/dev/shm" + name), Is.False);
        Assert.That(SharedMemory.TryUnlink(name), Is.False);
    }

    [Test]
    public void Open_of_an_empty_object_fails_with_EINVAL_saying_it_is_empty()
    {
        string name = NewName("empty");
        File.WriteAllBytes("/dev/shm" + name, []);

        IpcException? e = Assert.Throws<IpcException>(() => SharedMemory.Open(name));

        Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(e.Message, Does.StartWith($"mmap('{name}'): EINVAL").And.Contain("empty"));
    }

    [Test]
    public void A_disposed_object_throws_ObjectDisposedException()
    {
        SharedMemory shm = SharedMemory.Create(NewName("disposed"), 64);
        shm.Dispose();
        shm.Dispose();

        Assert.That(shm.Region.Handle.IsClosed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => _ = shm.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => _ = shm.Region.ReadOnlySpan.Length);
        Assert.Throws<ObjectDisposedException>(() => shm.Region.GetSpan(0, 1));
        Assert.Throws<ObjectDisposedException>(() => shm.Region.GetFutexWord(0));
        unsafe
        {
            Assert.Throws<ObjectDisposedException>(() => _ = (nint)shm.Region.Pointer);
        }
    }

    [Test]
    public void Anonymous_shared_memory_is_zeroed_and_writable()
    {
        using MappedRegion region = MappedRegion.MapAnonymous(8192);

        Assert.That(region.Length, Is.EqualTo(8192));
        Assert.That(region.Span.ContainsAnyExcept((byte)0), Is.False);
        region.Span[8191] = 5;
        Assert.That(region.ReadOnlySpan[8191], Is.EqualTo(5));
    }

    [Test]
    public void Invalid_arguments_are_rejected()
    {
        string name = NewName("args");
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemory.Create(name, 0));
        Assert.Throws<ArgumentException>(() => SharedMemory.Create("noslash", 64));
        Assert.Throws<ArgumentException>(() => SharedMemory.Open("/a/b"));
        Assert.Throws<ArgumentOutOfRangeException>(() => MappedRegion.MapAnonymous(0));
        Assert.That(File.Exists("/dev/shm" + name), Is.False);
    }

    private string NewName(string what)
    {
        string name = TestNames.Posix($"{Tag}-{what}");
        _names.Add(name);
        return name;
    }
}
