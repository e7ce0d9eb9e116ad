using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Hub.Tests;

[TestFixture]
public sealed class FrameAssemblerTests
{
    [Test]
    public void GrowsOnlyToAValidatedLength_AndShrinksBackAfterALargeFrame()
    {
        int max = new ProtocolLimits(4 * 1024 * 1024).MaxFrameLength;
        using var assembler = new FrameAssembler(max);
        Assert.That(assembler.Capacity, Is.LessThanOrEqualTo(FrameAssembler.InitialSize * 2));

        Span<byte> space = assembler.GetReadSpace(3 * 1024 * 1024);
        Assert.That(assembler.Capacity, Is.GreaterThanOrEqualTo(3 * 1024 * 1024));
        space[..10].Fill(7);
        assembler.Commit(10);
        assembler.Consume(10);
        assembler.GetReadSpace(FrameHeader.Size);
        Assert.That(assembler.Capacity, Is.LessThanOrEqualTo(FrameAssembler.InitialSize * 2), "an emptied buffer goes back to its start size");

        Assert.Throws<InvalidOperationException>(() => assembler.GetReadSpace(max + 1), "never beyond the protocol's maximum frame");
    }

    [Test]
    public void Discard_DropsAFrameAcrossReads_WithoutKeepingIt()
    {
        using var assembler = new FrameAssembler(new ProtocolLimits(1024).MaxFrameLength);
        assembler.Commit(Fill(assembler.GetReadSpace(FrameHeader.Size), 1000, 1));
        assembler.BeginDiscard(5000);
        Assert.That(assembler.Count, Is.Zero);
        Assert.That(assembler.DiscardRemaining, Is.EqualTo(4000));

        assembler.Commit(Fill(assembler.GetReadSpace(FrameHeader.Size), 3000, 2));
        Assert.That(assembler.DiscardBuffered(), Is.False);
        Assert.That(assembler.DiscardRemaining, Is.EqualTo(1000));

        // The rest of the frame and 5 bytes of the next one arrive together.
        assembler.Commit(Fill(assembler.GetReadSpace(FrameHeader.Size), 1005, 3));
        Assert.That(assembler.DiscardBuffered(), Is.True);
        Assert.That(assembler.Count, Is.EqualTo(5));
        Assert.That(assembler.Capacity, Is.LessThanOrEqualTo(FrameAssembler.InitialSize * 2), "the discarded frame was never buffered whole");
    }

    private static int Fill(Span<byte> space, int count, byte value)
    {
        space[..count].Fill(value);
        return count;
    }
}
