using System.Runtime.CompilerServices;

namespace MyIpcBench.Raw;

/// <summary>One write per message on a byte stream, as a C program does it.</summary>
internal sealed class StreamSink(IByteStream stream) : MessageSink
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Send(ReadOnlySpan<byte> message) => stream.WriteAll(message);
}
