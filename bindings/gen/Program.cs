using System.Text;

namespace IpcCore.BindGen;

/// <summary>
/// <c>IpcCore.BindGen &lt;header&gt; &lt;output.g.cs&gt; [--check]</c>: writes the bindings (only when they
/// changed), or with --check compares them with the file and exits 1 when it is stale.
/// Exit codes: 0 done / up to date, 1 stale, 2 usage or generation error.
/// </summary>
internal static class Program
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private static int Main(string[] args)
    {
        bool check = false;
        var positional = new List<string>();
        foreach (string arg in args)
        {
            switch (arg)
            {
                case "--check":
                    check = true;
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    if (arg.StartsWith('-'))
                    {
                        return UsageError($"unknown option '{arg}'");
                    }

                    positional.Add(arg);
                    break;
            }
        }

        if (positional.Count != 2)
        {
            return UsageError("expected a header and an output file");
        }

        string header = positional[0];
        string output = positional[1];
        string generated;
        try
        {
            generated = BindingGenerator.Generate(header);
        }
        catch (BindingGeneratorException e)
        {
            Console.Error.WriteLine($"IpcCore.BindGen: error: {e.Message}");
            return 2;
        }

        byte[] generatedBytes = Utf8NoBom.GetBytes(generated);
        byte[]? existing = File.Exists(output) ? File.ReadAllBytes(output) : null;
        bool upToDate = existing is not null && existing.AsSpan().SequenceEqual(generatedBytes);
        string shownOutput = output.Replace('\\', '/');

        if (check)
        {
            if (upToDate)
            {
                Console.WriteLine($"{shownOutput} is up to date with {header}.");
                return 0;
            }

            if (existing is null)
            {
                Console.Error.WriteLine($"{shownOutput} is missing: regenerate with {BindingGenerator.RegenerateCommand}");
                return 1;
            }

            Console.Error.WriteLine($"{shownOutput} is stale: regenerate with {BindingGenerator.RegenerateCommand}");
            Console.Error.Write(TextDiff.Describe(Encoding.UTF8.GetString(existing), generated, "checked in", "generated from " + header));
            return 1;
        }

        if (upToDate)
        {
            Console.WriteLine($"{shownOutput} is unchanged.");
            return 0;
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllBytes(output, generatedBytes);
        Console.WriteLine($"wrote {shownOutput} from {header}.");
        return 0;
    }

    private const string Usage =
        "usage: IpcCore.BindGen <header> <output.g.cs> [--check]\n"
        + "  writes the C# bindings generated from <header> to <output.g.cs> (only when they changed);\n"
        + "  --check only compares and exits 1 when <output.g.cs> is stale.\n"
        + "  clang: $IPCCORE_CLANG, else clang-14, else clang.";

    private static int UsageError(string message)
    {
        Console.Error.WriteLine($"IpcCore.BindGen: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
