namespace IpcCore.Cli;

/// <summary>The exit codes of the client tools.</summary>
public static class ExitCodes
{
    /// <summary>Everything worked (also: stopped by SIGINT/SIGTERM).</summary>
    public const int Success = 0;

    /// <summary>A runtime error: the hub is unreachable, the connection was lost, a message was refused.</summary>
    public const int RuntimeError = 1;

    /// <summary>A usage error: an unknown, missing or invalid option.</summary>
    public const int UsageError = 2;

    /// <summary>The paragraph --help shows.</summary>
    public const string HelpText =
        "Exit codes: 0 success; 1 runtime error (hub unreachable, connection lost, message refused); 2 usage error (bad or missing option).";
}

/// <summary>A usage error found after parsing (exit code 2); the message is printed as <c>tool: message</c>.</summary>
public sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
