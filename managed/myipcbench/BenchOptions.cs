using System.CommandLine;

namespace MyIpcBench;

/// <summary>The command line of myipcbench.</summary>
internal sealed class BenchOptions
{
    private readonly Option<long?> _iterations = new("--iterations") { Description = "Messages per throughput case." };

    public void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Options.Add(_iterations);
    }

    public BenchSettings Read(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        return new BenchSettings { Iterations = parseResult.GetValue(_iterations) };
    }
}
