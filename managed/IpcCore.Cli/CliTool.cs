namespace IpcCore.Cli;

/// <summary>Where a tool prints: status and errors to stderr (errors as <c>tool: message</c>), never a stack trace.</summary>
public sealed class CliTool
{
    private readonly TextWriter _error;

    public CliTool(string name, TextWriter? error = null)
    {
        Name = name;
        _error = error ?? Console.Error;
    }

    /// <summary>The tool's name, e.g. <c>myipcpub</c>.</summary>
    public string Name { get; }

    /// <summary>Prints a status line on stderr.</summary>
    public void Status(string line)
    {
        lock (_error)
        {
            _error.WriteLine(line);
            _error.Flush();
        }
    }

    /// <summary>Prints <c>tool: message</c> on stderr.</summary>
    public void Error(string message) => Status($"{Name}: {message}");
}
