using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace IpcCore;

/// <summary>
/// Turns the shim's "result or -errno" convention into values or exceptions. The throw helpers are
/// separate, non-inlined methods so the success path stays small.
/// </summary>
internal static class IpcError
{
    /// <summary>Returns <paramref name="result"/> when it is not negative, else throws for -errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Check(int result, string operation, string? objectName = null)
    {
        if (result < 0)
        {
            Throw(result, operation, objectName);
        }
        return result;
    }

    /// <summary>Builds (does not throw) the exception for a negative shim result.</summary>
    public static IpcException Create(int negativeErrno, string operation, string? objectName = null)
        => new(operation, objectName, -negativeErrno);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(int negativeErrno, string operation, string? objectName = null)
        => throw Create(negativeErrno, operation, objectName);
}
