using System.Text;
using IpcCore.Hub.Local;
using IpcCore.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;

namespace IpcCore.Hub.Tests.Local;

/// <summary>The local clients' translations: lines to Publish frames, Data frames to lines, frames cut back out of a stream.</summary>
[TestFixture]
public sealed class LinePathTests
{
    [Test]
    public void Inbox_lines_become_NoAck_publishes_and_bad_lines_are_skipped_whole()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using var _r = reader;
        using var _w = writer;
        using var path = LineSourcePath.ForInbox(reader, 64, NullLogger.Instance, "inbox test");
        string tooLong = "weather " + new string('x', 100);
        writer.WriteAll(Encoding.UTF8.GetBytes($"weather {{\"temp\":72}}\nno-space\n\nbad..channel hi\n{tooLong}\nsensors.temp 21.5\n"));

        List<(string Channel, string Payload, FrameFlags Flags)> frames = ReadFrames(path);
        Assert.That(frames, Is.EqualTo(new[]
        {
            ("weather", "{\"temp\":72}", FrameFlags.NoAck),
            ("sensors.temp", "21.5", FrameFlags.NoAck),
        }));
        Assert.That(path.LinesRejected, Is.EqualTo(3), "no space, invalid channel, too long (a blank line is ignored)");
    }

    [Test]
    public void A_line_split_across_reads_is_whole_and_a_child_line_may_hold_any_bytes()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using var _r = reader;
        using var _w = writer;
        // The path owns a child's stdout end; the test's own `using` disposes it too (twice is harmless).
        using var path = LineSourcePath.ForChannel(reader, "sensors", 1024, NullLogger.Instance, "child test");
        writer.WriteAll("first half "u8);
        Assert.That(ReadFrames(path), Is.Empty);
        writer.WriteAll("second half\nno space at all\nlast without newline"u8);
        Assert.That(ReadFrames(path).Select(f => f.Payload), Is.EqualTo(s_twoLines));
        writer.Dispose();
        List<(string Channel, string Payload, FrameFlags Flags)> rest = ReadFrames(path);
        Assert.That(rest.Select(f => (f.Channel, f.Payload)), Is.EqualTo(new[] { ("sensors", "last without newline") }),
            "the last line is published at end of stream");
        Assert.That(path.Read(new byte[64]).Status, Is.EqualTo(IoStatus.EndOfStream));
    }

    [Test]
    public void Data_frames_become_lines_and_a_full_pipe_holds_the_last_byte_back()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create(nonBlocking: true);
        using var _r = reader;
        writer.Capacity = 4096;
        using var sink = new LineSinkPath(writer, "child-sub test");
        byte[] stream = [.. Data("alerts", "one"), .. Data("alerts", new string('z', 3000)), .. Data("alerts", new string('y', 3000))];

        // Hand the stream over in 7-byte pieces, as the outbound queue might.
        int offset = 0;
        while (offset < stream.Length)
        {
            IoResult result = sink.Write(stream.AsSpan(offset, Math.Min(7, stream.Length - offset)));
            if (result.Status == IoStatus.WouldBlock)
            {
                break;
            }
            Assert.That(result.Status, Is.EqualTo(IoStatus.Success));
            offset += result.BytesTransferred;
        }
        Assert.That(offset, Is.LessThan(stream.Length), "the pipe filled: the frame whose line did not fit is not all taken");
        Assert.That(sink.HasPending, Is.True);

        // Drain the pipe, then the rest goes.
        var output = new MemoryStream();
        byte[] buffer = new byte[8192];
        while (offset < stream.Length || sink.HasPending)
        {
            IoResult read = reader.TryRead(buffer);
            if (read.Status == IoStatus.Success)
            {
                output.Write(buffer, 0, read.BytesTransferred);
            }
            IoResult result = sink.Write(stream.AsSpan(offset));
            if (result.Status == IoStatus.Success)
            {
                offset += result.BytesTransferred;
            }
        }
        while (reader.TryRead(buffer) is { Status: IoStatus.Success } more)
        {
            output.Write(buffer, 0, more.BytesTransferred);
        }
        Assert.That(Encoding.ASCII.GetString(output.ToArray()), Is.EqualTo("one\n" + new string('z', 3000) + "\n" + new string('y', 3000) + "\n"));
        Assert.That(sink.LinesWritten, Is.EqualTo(3));
    }

    [Test]
    public void The_walker_returns_whole_frames_however_the_stream_is_cut([Values(1, 5, 23, 24, 25, 100, 4096)] int piece)
    {
        byte[][] frames = [Data("a", ""), Data("b.c", new string('q', 5000)), Data("d", "x"), Data("e", new string('r', 100))];
        byte[] stream = [.. frames.SelectMany(f => f)];
        var walker = new FrameStreamWalker();
        var seen = new List<byte[]>();
        for (int offset = 0; offset < stream.Length; offset += piece)
        {
            ReadOnlySpan<byte> source = stream.AsSpan(offset, Math.Min(piece, stream.Length - offset));
            while (walker.TryTake(ref source, out ReadOnlySpan<byte> frame))
            {
                seen.Add(frame.ToArray());
            }
            Assert.That(source.IsEmpty, Is.True);
        }
        Assert.That(seen, Is.EqualTo(frames));
    }

    private static readonly string[] s_twoLines = ["first half second half", "no space at all"];

    private static byte[] Data(string channel, string payload)
    {
        byte[] c = Encoding.UTF8.GetBytes(channel), p = Encoding.UTF8.GetBytes(payload);
        byte[] frame = new byte[FrameWriter.FrameLength(c.Length, p.Length)];
        FrameWriter.Write(frame, FrameType.Data, FrameFlags.None, 1, c, p);
        return frame;
    }

    private static List<(string Channel, string Payload, FrameFlags Flags)> ReadFrames(LineSourcePath path)
    {
        var bytes = new List<byte>();
        byte[] buffer = new byte[13]; // small on purpose: frames come out in pieces
        while (path.Read(buffer) is { Status: IoStatus.Success } result)
        {
            bytes.AddRange(buffer.AsSpan(0, result.BytesTransferred).ToArray());
        }
        var frames = new List<(string, string, FrameFlags)>();
        byte[] all = [.. bytes];
        int offset = 0;
        while (offset < all.Length)
        {
            Assert.That(FrameReader.TryParse(all.AsSpan(offset), ProtocolLimits.Default, out Frame frame, out int needed, out _, out _),
                Is.EqualTo(FrameParseResult.Complete));
            Assert.That(frame.Type, Is.EqualTo(FrameType.Publish));
            frames.Add((Encoding.UTF8.GetString(frame.Channel), Encoding.UTF8.GetString(frame.Payload), frame.Flags));
            offset += needed;
        }
        return frames;
    }
}
