using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using IpcCore.Client;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// Descriptors through a real hub process: its descriptor table does not grow over 10,000 messages with
/// descriptors, a subscriber killed with descriptors queued gives them back, receivers check seals, a
/// receiver whose table is full is told (EMFILE), and myipcpub --by-fd / myipcsub --save end to end.
/// </summary>
[TestFixture]
public sealed class FdPassingTests : HubTest
{
    private static readonly TimeSpan s_release = TimeSpan.FromSeconds(5);

    private protected override string Tag => "fd";

    private HubClientOptions Options(string name, IpcCore.Protocol.TransportKind transport = IpcCore.Protocol.TransportKind.Socket) => new()
    {
        Directory = Env.Directory,
        ClientName = name,
        Transport = transport,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        Reconnect = false,
    };

    private static MemoryFile Sealed(byte[] content)
    {
        MemoryFile file = MemoryFile.Create("it-fd");
        file.Write(content);
        file.AddSeals(FileSeals.Immutable);
        return file;
    }

    private static void WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < timeout)
        {
            Thread.Sleep(10);
        }
    }

    private static string Diff(Dictionary<int, string> now, Dictionary<int, string> before)
        => string.Join(", ", now.Where(d => !before.TryGetValue(d.Key, out string? t) || t != d.Value).Select(d => $"{d.Key} -> {d.Value}"));

    [Test]
    public async Task TheHubsDescriptorTable_DoesNotGrow_Over10000MessagesWithDescriptors()
    {
        HubProcess hub = Env.StartHub();
        ChildProcess socketSub = Env.StartSubscriber(["fd.stream"], ["--format", "json"], waitSubscribed: false);
        Env.SubscriberBackend = "pipe";
        ChildProcess pipeSub = Env.StartSubscriber(["fd.stream"], ["--format", "json"], waitSubscribed: false);
        Env.SubscriberBackend = "shm";
        ChildProcess shmSub = Env.StartSubscriber(["fd.stream"], waitSubscribed: false);
        HubTestEnvironment.WaitSubscribed(socketSub, ["fd.stream"], "socket");
        HubTestEnvironment.WaitSubscribed(pipeSub, ["fd.stream"], "pipe");
        HubTestEnvironment.WaitSubscribed(shmSub, ["fd.stream"], "shm");
        await using HubClient pub = await HubClient.ConnectAsync(Options("it-fd-pub"));
        // Warm the hub's code paths (first use opens its assemblies) before taking the baseline.
        using (MemoryFile warm = Sealed("warm"u8.ToArray()))
        {
            await pub.PublishAsync("fd.warm", "w"u8.ToArray(), [warm.Handle]);
        }
        Dictionary<int, string> before = hub.Descriptors();

        const int count = 10_000;
        using MemoryFile file = Sealed("payload by descriptor"u8.ToArray());
        SafeHandle[] attach = [file.Handle];
        var window = new Queue<Task<PublishResult>>();
        int delivered = 0, skipped = 0;
        for (int i = 0; i < count; i++)
        {
            window.Enqueue(pub.PublishAsync("fd.stream", Encoding.UTF8.GetBytes(i.ToString(CultureInfo.InvariantCulture)), attach).AsTask());
            if (window.Count >= 256)
            {
                PublishResult r = await window.Dequeue().WaitAsync(Timeouts.Message);
                delivered += r.Delivered;
                skipped += r.CannotCarryDescriptors;
            }
        }
        while (window.Count > 0)
        {
            PublishResult r = await window.Dequeue().WaitAsync(Timeouts.Message);
            delivered += r.Delivered;
            skipped += r.CannotCarryDescriptors;
        }
        Assert.That(delivered, Is.EqualTo(2 * count), "the socket and the pipe subscriber get every message");
        Assert.That(skipped, Is.EqualTo(count), "the shm subscriber cannot carry descriptors: the Acks count it");

        foreach (ChildProcess sub in new[] { socketSub, pipeSub })
        {
            IReadOnlyList<string> lines = sub.WaitForStdoutLines(l => l.StartsWith("{\"channel\":\"fd.stream\"", StringComparison.Ordinal),
                count, Timeouts.Message, "every message, its memfd content printed");
            Assert.That(lines[^1], Does.Contain("\"seq\":10000").And.Contain("\"text\":\"payload by descriptor\""));
        }
        Assert.That(shmSub.StdoutLines(), Is.Empty, "the shm subscriber got none of them");

        Dictionary<int, string> after = hub.Descriptors();
        WaitUntil(() => (after = hub.Descriptors()).Count <= before.Count, s_release);
        TestContext.Out.WriteLine($"hub descriptors: {before.Count} before, {after.Count} after {count} messages with a descriptor");
        Assert.That(after.Count, Is.EqualTo(before.Count),
            $"the hub's descriptor table is back where it was; new: {Diff(after, before)}\n{hub.Child.Describe()}");
    }

    [Test]
    public async Task ASubscriberKilledWithDescriptorsQueued_TheHubClosesItsCopies()
    {
        HubProcess hub = Env.StartHub("--slow-policy", "drop");
        await using HubClient pub = await HubClient.ConnectAsync(Options("it-fd-pub"));
        using (MemoryFile warm = Sealed("warm"u8.ToArray()))
        {
            await pub.PublishAsync("fd.warm", "w"u8.ToArray(), [warm.Handle]);
        }
        Dictionary<int, string> before = hub.Descriptors(); // before the victim: all it brings must go with it
        ChildProcess victim = Env.StartSubscriber("fd.slow");

        victim.Signal(ChildProcess.SigStop);
        byte[] big = new byte[64 * 1024];
        using MemoryFile file = Sealed("queued"u8.ToArray());
        int delivered = 0;
        for (int i = 0; i < 100; i++)
        {
            delivered += (await pub.PublishAsync("fd.slow", big, [file.Handle]).AsTask().WaitAsync(Timeouts.Message)).Delivered;
        }
        int held = hub.DescriptorCount() - before.Count;
        TestContext.Out.WriteLine($"{delivered} of 100 queued for the stopped subscriber; the hub holds {held} more descriptors");
        Assert.That(held, Is.GreaterThan(0), "messages wait in the hub's queue with their descriptors");

        victim.Signal(ChildProcess.SigKill);
        victim.WaitForExit(Timeouts.Stop, "the killed subscriber");
        Dictionary<int, string> after = hub.Descriptors();
        WaitUntil(() => (after = hub.Descriptors()).Count <= before.Count, s_release);
        Assert.That(after.Count, Is.EqualTo(before.Count),
            $"the hub closed the queued descriptors with the client; left: {Diff(after, before)}\n{hub.Child.Describe()}");
        Assert.That(hub.IsAlive, Is.True);
    }

    [Test]
    public async Task MyipcsubChecksTheSeals_AnUnsealedMemfdIsNotTrusted()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("fd.seals", "--count", "2");
        await using HubClient pub = await HubClient.ConnectAsync(Options("it-fd-pub"));
        using MemoryFile unsealed = MemoryFile.Create("unsealed");
        unsealed.Write("can still change"u8);
        using MemoryFile writeOnly = MemoryFile.Create("write-sealed-only");
        writeOnly.Write("may still shrink"u8);
        writeOnly.AddSeals(FileSeals.Write);
        await pub.PublishAsync("fd.seals", "a.txt"u8.ToArray(), [unsealed.Handle]);
        await pub.PublishAsync("fd.seals", "b.txt"u8.ToArray(), [writeOnly.Handle]);
        Assert.That(sub.WaitForExit(Timeouts.Message, "the subscriber after 2 messages"), Is.EqualTo(1), sub.Describe());
        Assert.That(sub.StderrText(), Does.Contain("message 1 on 'fd.seals': the memfd is not sealed against changes (seals: none; needs write, shrink and grow); not trusted, not read"));
        Assert.That(sub.StderrText(), Does.Contain("message 2 on 'fd.seals': the memfd is not sealed against changes (seals: write; needs write, shrink and grow)"));
        Assert.That(sub.StdoutLines(), Is.Empty);
    }

    [Test]
    public void MyipcpubByFd_MyipcsubSaves_AFileLargerThanTheMaximumMessage()
    {
        Env.StartHub();
        string saveTo = Path.Combine(Env.FilesDirectory, "saved");
        Directory.CreateDirectory(saveTo);
        ChildProcess saver = Env.StartSubscriber("fd.files", "--count", "1", "--save", saveTo);
        Env.SubscriberBackend = "pipe";
        ChildProcess printer = Env.StartSubscriber("fd.files", "--count", "1", "--format", "raw");
        Env.SubscriberBackend = "fifo";
        ChildProcess fifo = Env.StartSubscriber("fd.files");

        byte[] content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17); // 3 MiB: over the 1 MiB message limit
        string source = Env.WriteFile("big.bin", content);
        ChildProcess pub = Env.StartClient(Tools.Pub, ["--dir", Env.Directory, "--channel", "fd.files", "--file", source, "--by-fd"]);
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub --by-fd"), Is.EqualTo(0), pub.Describe());
        Assert.That(pub.StdoutLines(), Is.EqualTo(new[] { $"Published (2 subscribers; {content.Length} bytes by descriptor; 1 could not receive it: their backend cannot carry descriptors)" }));

        Assert.That(saver.WaitForExit(Timeouts.Message, "the saving subscriber"), Is.EqualTo(0), saver.Describe());
        string saved = Path.Combine(saveTo, "big.bin");
        Assert.That(saver.StdoutLines(), Is.EqualTo(new[] { $"[fd.files] saved {saved} ({content.Length} bytes, from a sealed memfd)" }));
        Assert.That(File.ReadAllBytes(saved), Is.EqualTo(content));

        Assert.That(printer.WaitForExit(Timeouts.Message, "the printing subscriber"), Is.EqualTo(0), printer.Describe());
        Assert.That(printer.StdoutBytes(), Is.EqualTo(content), "raw output is the memfd's content");
        Assert.That(fifo.StdoutLines(), Is.Empty, "a FIFO subscriber does not get a message with descriptors");
    }

    [Test]
    public void MyipcpubByFd_WithABackendThatCannotCarryDescriptors_IsAUsageError()
    {
        Env.StartHub();
        string source = Env.WriteFile("x.txt", "x"u8.ToArray());
        ChildProcess pub = Env.StartClient(Tools.Pub, ["--dir", Env.Directory, "--channel", "c", "--file", source, "--by-fd", "--backend", "mqueue"]);
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub"), Is.EqualTo(2));
        Assert.That(pub.StderrText(), Does.Contain("--by-fd needs the socket or pipe backend; mqueue cannot carry descriptors"));
    }

    [Test]
    public async Task AReceiverWhoseDescriptorTableIsFull_IsToldEMFILE_AndGetsTheNextMessage()
    {
        Env.StartHub("--max-fds-per-message", "200", "--max-fds-in-flight", "400");
        // myipcsub uses ~60 descriptors; 150 leave no room for a message with 120.
        ChildProcess sub = Env.StartShell(
            $"exec prlimit --nofile=150:150 {Tools.PathOf(Tools.Sub)} --dir {Env.Directory} --channel fd.many --count 2");
        HubTestEnvironment.WaitSubscribed(sub, ["fd.many"], "socket");
        await using HubClient pub = await HubClient.ConnectAsync(Options("it-fd-pub"));
        using MemoryFile file = Sealed("one of many"u8.ToArray());
        SafeHandle[] many = Enumerable.Repeat<SafeHandle>(file.Handle, 120).ToArray();
        Assert.That((await pub.PublishAsync("fd.many", "many"u8.ToArray(), many)).Delivered, Is.EqualTo(1));
        Assert.That((await pub.PublishAsync("fd.many", "after"u8.ToArray())).Delivered, Is.EqualTo(1));
        Assert.That(sub.WaitForExit(Timeouts.Message, "the subscriber"), Is.EqualTo(1), sub.Describe());
        Assert.That(sub.StderrText(), Does.Contain("the descriptors of message 1 on 'fd.many' were lost: this process's descriptor table is full")
            .And.Contain("EMFILE"));
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[fd.many] after" }));
    }

    [Test]
    public async Task AHubWhoseDescriptorTableIsFull_RefusesThatPublishWithDescriptorsLost_AndGoesOn()
    {
        // The hub uses ~30 descriptors; with 100 at most it cannot take a message's 90 (MSG_CTRUNC).
        ChildProcess child = Env.StartShell(
            $"exec prlimit --nofile=100:100 {Tools.PathOf(Tools.Hub)} --dir {Env.Directory} --max-fds-per-message 200 --max-fds-in-flight 400");
        var hub = new HubProcess(child, Env.Directory);
        hub.WaitUntilListening();
        ChildProcess sub = Env.StartSubscriber("fd.full", "--count", "1");
        await using HubClient pub = await HubClient.ConnectAsync(Options("it-fd-pub"));
        using MemoryFile file = Sealed("x"u8.ToArray());
        SafeHandle[] many = Enumerable.Repeat<SafeHandle>(file.Handle, 90).ToArray();
        var refused = Assert.ThrowsAsync<HubException>(async () => await pub.PublishAsync("fd.full", "many"u8.ToArray(), many).AsTask().WaitAsync(Timeouts.Message));
        Assert.That(refused!.Code, Is.EqualTo(IpcCore.Protocol.ProtocolErrorCode.DescriptorsLost), refused.Message);
        Assert.That(refused.Reason, Does.Contain("its descriptor table is full, EMFILE"));
        PublishResult after = await pub.PublishAsync("fd.full", "after"u8.ToArray(), [file.Handle]).AsTask().WaitAsync(Timeouts.Message);
        Assert.That(after, Is.EqualTo(new PublishResult(1, 0, 1, 0)), "the refused message took no sequence number; the next one goes through");
        Assert.That(sub.WaitForExit(Timeouts.Message, "the subscriber"), Is.EqualTo(0), sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[fd.full] x" }));
    }

    [Test]
    public void MyipcsubDoesNotPrintAHugeFileAsText_ItSaysHowToGetIt()
    {
        Env.StartHub();
        ChildProcess text = Env.StartSubscriber("fd.huge", "--count", "1");
        ChildProcess json = Env.StartSubscriber("fd.huge", "--count", "1", "--format", "json");
        string source = Env.WriteFile("huge.bin", new byte[17 * 1024 * 1024]);
        ChildProcess pub = Env.StartClient(Tools.Pub, ["--dir", Env.Directory, "--channel", "fd.huge", "--file", source, "--by-fd"]);
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub --by-fd"), Is.EqualTo(0), pub.Describe());
        Assert.That(text.WaitForExit(Timeouts.Message, "the text subscriber"), Is.EqualTo(0), text.Describe());
        Assert.That(text.StdoutLines(), Is.EqualTo(new[]
        {
            "[fd.huge] not printed huge.bin (17825792 bytes by descriptor; too large to print as text: use --save DIR or --format raw)",
        }));
        Assert.That(json.WaitForExit(Timeouts.Message, "the json subscriber"), Is.EqualTo(0), json.Describe());
        Assert.That(json.StdoutLines(), Is.EqualTo(new[] { "{\"channel\":\"fd.huge\",\"seq\":1,\"size\":17825792,\"not_printed\":\"huge.bin\"}" }));
    }
}
