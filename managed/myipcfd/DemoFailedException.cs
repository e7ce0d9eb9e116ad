namespace MyIpcFd;

/// <summary>
/// A demo could not go on (a helper process did not get ready, a reply did not come, the hub did not start).
/// An <see cref="IOException"/>, so the tools' runner prints it as <c>myipcfd: message</c> and exits 1.
/// </summary>
internal sealed class DemoFailedException : IOException
{
    public DemoFailedException()
    {
    }

    public DemoFailedException(string message)
        : base(message)
    {
    }

    public DemoFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
