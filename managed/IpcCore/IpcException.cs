using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// A failed kernel-facing operation. The message always names the operation, the object and the
/// errno, e.g. <c>mq_open('/ipchub.t1.in'): EEXIST (File exists)</c>.
/// </summary>
public sealed class IpcException : IOException
{
    /// <summary>Creates the exception for a failed <paramref name="operation"/> on <paramref name="objectName"/>.</summary>
    public IpcException(string operation, string? objectName, int errno)
        : base(Format(operation, objectName, errno), errno)
    {
        Operation = operation;
        ObjectName = objectName;
        ErrorNumber = errno;
    }

    /// <summary>Creates the exception with a message of its own (for errors that are not an errno).</summary>
    public IpcException(string operation, string? objectName, int errno, string message)
        : base(message, errno)
    {
        Operation = operation;
        ObjectName = objectName;
        ErrorNumber = errno;
    }

    public IpcException() : this("unknown", null, (int)Errno.EIO) { }

    public IpcException(string message) : base(message) => Operation = "unknown";

    public IpcException(string message, Exception innerException) : base(message, innerException) => Operation = "unknown";

    /// <summary>The C call that failed, e.g. <c>mq_open</c>.</summary>
    public string Operation { get; }

    /// <summary>The name or path of the object it failed on, or null when it has none.</summary>
    public string? ObjectName { get; }

    /// <summary>The raw errno value (positive).</summary>
    public int ErrorNumber { get; }

    /// <summary>The errno as the frozen enum of the ABI (values outside it keep their number).</summary>
    public Errno Errno => (Errno)ErrorNumber;

    /// <summary>The symbolic errno name, e.g. <c>EACCES</c>.</summary>
    public string ErrnoName => ErrnoText.NameOf(ErrorNumber);

    /// <summary>The system's description of the errno, e.g. <c>Permission denied</c>.</summary>
    public string ErrnoDescription => ErrnoText.DescribeOf(ErrorNumber);

    private static string Format(string operation, string? objectName, int errno)
    {
        string target = objectName is null ? string.Empty : $"'{objectName}'";
        return $"{operation}({target}): {ErrnoText.NameOf(errno)} ({ErrnoText.DescribeOf(errno)})";
    }
}
