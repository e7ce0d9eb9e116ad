using System.Globalization;
using System.Text;
using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// Every transport to every transport: on one hub, a subscriber on each of the five transports at once, and a
/// publisher on the fixture's transport publishing text lines (one of them 64 KiB), a binary message with every
/// byte value (NULs included, invalid UTF-8) and a 64 KiB random binary message. Every subscriber gets every
/// message byte for byte, in order, with the channel's sequence numbers 1..N (myipcsub --format json carries
/// the exact bytes as base64).
/// </summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
public sealed class TransportMatrixTests : HubTest
{
    private const string Channel = "matrix.data";

    public TransportMatrixTests(string publisherBackend) : base(publisherBackend)
    {
    }

    private protected override string Tag => "matrix";

    [Test]
    public void EverySubscriberTransport_GetsEveryMessageByteForByte_InOrder()
    {
        HubProcess hub = Env.StartHub();
        var subs = new Dictionary<string, ChildProcess>();
        List<byte[]> expected = Messages(Backend);
        string count = expected.Count.ToString(CultureInfo.InvariantCulture);
        foreach (string backend in HubTestEnvironment.AllBackends)
        {
            Env.SubscriberBackend = backend;
            subs[backend] = Env.StartSubscriber(["matrix.>"], ["--format", "json", "--count", count], waitSubscribed: false);
        }
        foreach ((string backend, ChildProcess sub) in subs)
        {
            HubTestEnvironment.WaitSubscribed(sub, ["matrix.>"], backend);
        }

        // 1: text lines on stdin, one of them 64 KiB long (the last one without a newline).
        int lines = expected.Count - 2;
        ChildProcess text = Env.StartPublisher(Channel);
        var input = new MemoryStream();
        for (int i = 0; i < lines; i++)
        {
            input.Write(expected[i]);
            if (i < lines - 1)
            {
                input.WriteByte((byte)'\n');
            }
        }
        Task feeding = text.FeedStdinAndClose(input.ToArray());
        Assert.That(text.WaitForExit(Timeouts.Message, "myipcpub with text lines"), Is.Zero, text.Describe());
        Assert.That(feeding.Wait(Timeouts.Message), Is.True);
        Env.AssertPublished(text, expectedSubscribers: 5, messages: lines);
        // 2 and 3: binary files.
        for (int i = lines; i < expected.Count; i++)
        {
            ChildProcess pub = Env.StartPublisher(Channel, "--file", Env.WriteFile($"m{i}.bin", expected[i]));
            pub.CloseStdin();
            pub.WaitForExit(Timeouts.Message, $"myipcpub --file (message {i + 1}, {expected[i].Length} bytes)");
            Env.AssertPublished(pub, expectedSubscribers: 5);
        }

        foreach ((string backend, ChildProcess sub) in subs)
        {
            Assert.That(sub.WaitForExit(Timeouts.Message, $"the {backend} subscriber (--count {count})"), Is.Zero, sub.Describe());
            IReadOnlyList<string> received = sub.StdoutLines();
            Assert.That(received, Has.Count.EqualTo(expected.Count), $"{Backend} -> {backend}\n{sub.Describe()}");
            for (int i = 0; i < expected.Count; i++)
            {
                JsonMessage m = JsonMessage.Parse(received[i]);
                string what = $"{Backend} publisher -> {backend} subscriber, message {i + 1} of {expected.Count}";
                Assert.That(m.Channel, Is.EqualTo(Channel), what);
                Assert.That(m.Seq, Is.EqualTo((ulong)(i + 1)), $"{what}: in order, no gap");
                Assert.That(m.Size, Is.EqualTo(expected[i].Length), what);
                if (!m.Bytes.AsSpan().SequenceEqual(expected[i]))
                {
                    int at = m.Bytes.AsSpan().CommonPrefixLength(expected[i]);
                    Assert.Fail($"{what}: the bytes differ from offset {at} ({m.Bytes.Length} bytes received, {expected[i].Length} sent)");
                }
            }
            Assert.That(sub.StderrText(), Does.Not.Contain("missed"), sub.Describe());
        }
        Assert.That(hub.IsAlive, Is.True, hub.Child.Describe());
    }

    /// <summary>
    /// The messages, in publishing order: text lines (ASCII, UTF-8 of several widths, a tab, a 64 KiB line), then
    /// every byte value with NULs at both ends, then 64 KiB of random bytes.
    /// </summary>
    private static List<byte[]> Messages(string backend)
    {
        var random = new Random(1 + Array.IndexOf(HubTestEnvironment.AllBackends, backend));
        var big = new StringBuilder(64 * 1024);
        while (big.Length < 64 * 1024)
        {
            big.Append((char)('a' + random.Next(26)));
        }
        var messages = new List<byte[]>
        {
            Encoding.UTF8.GetBytes($"hello from {backend}"),
            Encoding.UTF8.GetBytes("tab\there, quotes \"x\" and a backslash \\"),
            Encoding.UTF8.GetBytes("UTF-8: héllo wörld ✓ 日本 😀"),
            Encoding.UTF8.GetBytes(big.ToString(0, 64 * 1024)),
            Encoding.UTF8.GetBytes("after the 64 KiB line"),
            Encoding.UTF8.GetBytes("last line without a newline"),
        };
        byte[] all = new byte[512 + 2];
        for (int i = 0; i < 256; i++)
        {
            all[1 + i] = (byte)i;
            all[1 + 256 + i] = (byte)(255 - i);
        }
        messages.Add(all); // starts and ends with NUL; 0x0A inside (not a line break for --file)
        byte[] noise = new byte[64 * 1024];
        random.NextBytes(noise);
        messages.Add(noise);
        return messages;
    }
}
