using System.Text;
using IpcCore.Integration.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>Payload edge cases: empty, binary, escaped text, the maximum size and one byte over it.</summary>
[TestFixture("socket")]
[TestFixture("fifo")]
[TestFixture("mqueue")]
[TestFixture("shm")]
[TestFixture("pipe")]
public sealed class PayloadTests : HubTest
{
    public PayloadTests(string backend) : base(backend)
    {
    }

    private const int MaxMessage = ProtocolLimits.DefaultMaxMessageSize;

    private protected override string Tag => "payload";

    [Test]
    public void EmptyMessage_PrintsChannelAndNothingElse()
    {
        Env.StartHub();
        ChildProcess text = Env.StartSubscriber("weather", "--count", "1");
        ChildProcess json = Env.StartSubscriber("weather", "--count", "1", "--format", "json");

        Env.PublishOk("weather", string.Empty, expectedSubscribers: 2);

        Assert.That(text.WaitForExit(Timeouts.Message, "text subscriber"), Is.Zero, text.Describe());
        Assert.That(text.StdoutText(), Is.EqualTo("[weather] \n"), text.Describe());
        Assert.That(json.WaitForExit(Timeouts.Message, "json subscriber"), Is.Zero, json.Describe());
        JsonMessage m = JsonMessage.Parse(json.StdoutLines().Single());
        Assert.That(m, Is.EqualTo(m with { Channel = "weather", Seq = 1, Size = 0, Text = string.Empty }), json.Describe());
        Assert.That(m.Bytes, Is.Empty);
    }

    [Test]
    public void ControlCharacters_AreEscapedInTextFormat()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("esc", "--count", "1");
        byte[] payload = Encoding.ASCII.GetBytes("a\nb\tc\\d\re\0f\u0001g");
        string file = Env.WriteFile("esc.bin", payload);
        ChildProcess pub = Env.StartPublisher("esc", "--file", file);
        pub.CloseStdin();
        pub.WaitForExit(Timeouts.Message, "myipcpub --file");
        Env.AssertPublished(pub, 1);

        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines().Single(), Is.EqualTo(@"[esc] a\nb\tc\\d\re\x00f\x01g").IgnoreCase, sub.Describe());
    }

    [Test]
    public void BinaryPayloadWithNulBytes_ArrivesByteForByte_InRawAndJson()
    {
        Env.StartHub();
        byte[] payload = new byte[1000];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 7 % 256); // every byte value, NULs included, and invalid UTF-8 (0xC0 ...)
        }
        payload[0] = 0;
        payload[^1] = 0;
        ChildProcess raw = Env.StartSubscriber("bin", "--count", "1", "--format", "raw");
        ChildProcess json = Env.StartSubscriber("bin", "--count", "1", "--format", "json");
        ChildProcess pub = Env.StartPublisher("bin", "--file", Env.WriteFile("bin.bin", payload));
        pub.CloseStdin();
        pub.WaitForExit(Timeouts.Message, "myipcpub --file");
        Env.AssertPublished(pub, 2);

        Assert.That(raw.WaitForExit(Timeouts.Message, "raw subscriber"), Is.Zero, raw.Describe());
        Assert.That(raw.StdoutBytes(), Is.EqualTo(payload), "raw output should be exactly the payload bytes\n" + raw.Describe());
        Assert.That(json.WaitForExit(Timeouts.Message, "json subscriber"), Is.Zero, json.Describe());
        JsonMessage m = JsonMessage.Parse(json.StdoutLines().Single());
        Assert.Multiple(() =>
        {
            Assert.That(m.Channel, Is.EqualTo("bin"));
            Assert.That(m.Seq, Is.EqualTo(1UL));
            Assert.That(m.Size, Is.EqualTo(payload.Length));
            Assert.That(m.Text, Is.Null, "text is null for a payload that is not UTF-8");
            Assert.That(m.Bytes, Is.EqualTo(payload), "base64 decodes to the payload");
        });
    }

    [Test]
    public void MaximumSizeMessage_ArrivesIntact()
    {
        Env.StartHub();
        byte[] payload = new byte[MaxMessage];
        new Random(42).NextBytes(payload);
        ChildProcess raw = Env.StartSubscriber("big", "--count", "1", "--format", "raw");
        ChildProcess json = Env.StartSubscriber("big", "--count", "1", "--format", "json");
        ChildProcess pub = Env.StartPublisher("big", "--file", Env.WriteFile("max.bin", payload));
        pub.CloseStdin();
        pub.WaitForExit(Timeouts.Message, "myipcpub --file (1 MiB)");
        Env.AssertPublished(pub, 2);

        Assert.That(raw.WaitForExit(Timeouts.Message, "raw subscriber"), Is.Zero, raw.Describe());
        byte[] received = raw.StdoutBytes();
        Assert.That(received.Length, Is.EqualTo(payload.Length), raw.Describe());
        Assert.That(received.AsSpan().SequenceEqual(payload), Is.True, "the 1 MiB message should arrive byte for byte");
        Assert.That(json.WaitForExit(Timeouts.Message, "json subscriber"), Is.Zero, json.Describe());
        JsonMessage m = JsonMessage.Parse(json.StdoutLines().Single());
        Assert.That(m.Size, Is.EqualTo(MaxMessage));
        Assert.That(m.Bytes.AsSpan().SequenceEqual(payload), Is.True, "base64 of the 1 MiB message");
    }

    [Test]
    public void OversizedFile_IsRefusedWithExit1_AndNothingIsDelivered()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("big", "--count", "1");
        byte[] payload = new byte[MaxMessage + 1];
        payload.AsSpan().Fill((byte)'x');
        ChildProcess pub = Env.StartPublisher("big", "--file", Env.WriteFile("over.bin", payload));
        pub.CloseStdin();

        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub with an oversized --file"), Is.EqualTo(1), pub.Describe());
        Assert.That(pub.StderrText(), Does.Contain("myipcpub: publish to 'big' failed: "), pub.Describe());
        Assert.That(pub.StdoutLines().Where(l => l.StartsWith("Published", StringComparison.Ordinal)), Is.Empty, pub.Describe());

        Env.PublishOk("big", "small one", 1);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[big] small one" }), "the oversized message must not arrive\n" + sub.Describe());
    }

    /// <summary>An oversized stdin line fails alone: the lines before and after it are published by the same run, which exits 1.</summary>
    [Test]
    public void OversizedStdinLine_FailsAlone_TheRunContinuesAndExits1()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("lines", "--count", "2");
        ChildProcess pub = Env.StartPublisher("lines");
        var input = new MemoryStream();
        input.Write("before\n"u8);
        input.Write(Enumerable.Repeat((byte)'y', MaxMessage + 1).ToArray());
        input.Write("\nafter\n"u8);
        Task feeding = pub.FeedStdinAndClose(input.ToArray());

        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub with an oversized line"), Is.EqualTo(1), pub.Describe());
        feeding.Wait(Timeouts.Message);
        Assert.That(pub.StderrText(), Does.Contain("myipcpub: publish to 'lines' failed: "), pub.Describe());
        Assert.That(pub.StdoutLines().Where(l => l.StartsWith("Published", StringComparison.Ordinal)),
            Is.EqualTo(new[] { "Published (1 subscribers)", "Published (1 subscribers)" }), pub.Describe());

        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 2"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[lines] before", "[lines] after" }), sub.Describe());
    }

    /// <summary>docs/PROTOCOL.md: an oversized Publish gets a non-fatal PayloadTooLarge with its request id; the connection stays usable.</summary>
    [Test]
    public void RawOversizedPublish_GetsNonFatalPayloadTooLarge_AndTheConnectionStaysUsable()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("raw", "--count", "1");
        using RawConnection raw = RawConnection.ConnectAndHandshake(Env.SocketPath);
        Assert.That(raw.Welcome.MaxMessageSize, Is.EqualTo(MaxMessage), "Welcome's maximum message size");

        // The hub must discard the 1 MiB + 1 bytes as they arrive: send them from another thread while we wait.
        byte[] big = new byte[MaxMessage + 1];
        Task send = Task.Run(() => raw.Publish(7, "raw", big));
        ReceivedFrame? error = raw.ReadFrame(Timeouts.Message);
        Assert.That(send.Wait(Timeouts.Message), Is.True, "the hub should read (and discard) the whole oversized frame");
        Assert.That(error, Is.Not.Null, "the hub closed the connection instead of answering the oversized Publish");
        Assert.Multiple(() =>
        {
            Assert.That(error!.Type, Is.EqualTo(FrameType.Error), error.ToString());
            Assert.That(error.ErrorCode, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge), error.ToString());
            Assert.That(error.IsFatal, Is.False, "PayloadTooLarge on Publish is not fatal: " + error);
            Assert.That(error.Sequence, Is.EqualTo(7UL), "the Error carries the request id");
        });

        raw.Publish(8, "raw", "fits"u8);
        ReceivedFrame? ack = raw.ReadFrame(Timeouts.Message);
        Assert.That(ack, Is.Not.Null, "the hub closed the connection after the oversized Publish");
        Assert.That(ack!.Type, Is.EqualTo(FrameType.Ack), ack.ToString());
        Assert.That(ack.Sequence, Is.EqualTo(8UL));
        Assert.That(ack.Ack.Delivered, Is.EqualTo(1), ack.ToString());
        Assert.That(ack.Ack.ChannelSequence, Is.EqualTo(1UL), "the oversized message took no sequence number");

        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[raw] fits" }), sub.Describe());
    }

    [Test]
    public void JsonFormat_EscapesQuotesBackslashesControlAndUnicode()
    {
        Env.StartHub();
        const string text = "He said \"hi\" \\ tab\t nl\n bell\u0007 é 😀 </script>";
        ChildProcess json = Env.StartSubscriber("json", "--count", "1", "--format", "json");
        ChildProcess pub = Env.StartPublisher("json", "--file", Env.WriteFile("json.txt", Encoding.UTF8.GetBytes(text)));
        pub.CloseStdin();
        pub.WaitForExit(Timeouts.Message, "myipcpub --file");
        Env.AssertPublished(pub, 1);
        Assert.That(json.WaitForExit(Timeouts.Message, "json subscriber"), Is.Zero, json.Describe());
        string line = json.StdoutLines().Single();
        JsonMessage m = JsonMessage.Parse(line);
        Assert.That(m.Text, Is.EqualTo(text), line);
        Assert.That(m.Size, Is.EqualTo(Encoding.UTF8.GetByteCount(text)), line);
        Assert.That(m.Bytes, Is.EqualTo(Encoding.UTF8.GetBytes(text)), line);
    }

    [Test]
    public void NoAck_PublishesEveryLineInOrder()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("fire", "--count", "3");
        ChildProcess pub = Env.StartPublisher("fire", "--no-ack");
        pub.WriteStdin("one\ntwo\nthree\n"u8);
        pub.CloseStdin();
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub --no-ack"), Is.Zero, pub.Describe());
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 3"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[fire] one", "[fire] two", "[fire] three" }), sub.Describe());
    }

    [Test]
    public void LastStdinLineWithoutNewline_IsPublishedToo()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("tail", "--count", "2");
        ChildProcess pub = Env.StartPublisher("tail");
        pub.WriteStdin("first\nlast"u8);
        pub.CloseStdin();
        Assert.That(pub.WaitForExit(Timeouts.Message, "myipcpub"), Is.Zero, pub.Describe());
        Env.AssertPublished(pub, 1, messages: 2);
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub --count 2"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[tail] first", "[tail] last" }), sub.Describe());
    }
}
