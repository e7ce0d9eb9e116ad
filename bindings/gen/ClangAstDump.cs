using System.ComponentModel;
using System.Diagnostics;

namespace IpcCore.BindGen;

/// <summary>Runs clang on the header and returns its JSON AST dump (stdout).</summary>
internal static class ClangAstDump
{
    internal const string ClangEnvironmentVariable = "IPCCORE_CLANG";

    internal static byte[] Run(string headerPath, string? clangPath)
    {
        IReadOnlyList<string> candidates = Candidates(clangPath);
        var notFound = new List<string>();
        foreach (string clang in candidates)
        {
            Process? process;
            try
            {
                process = Process.Start(CreateStartInfo(clang, headerPath));
            }
            catch (Win32Exception e)
            {
                // Not installed (or not executable): try the next candidate.
                notFound.Add($"'{clang}' ({e.Message})");
                continue;
            }

            if (process is null)
            {
                notFound.Add($"'{clang}' (did not start)");
                continue;
            }

            using (process)
            {
                return ReadOutput(process, clang, headerPath);
            }
        }

        string source = clangPath is not null
            ? "the clang path given to the generator"
            : Environment.GetEnvironmentVariable(ClangEnvironmentVariable) is { Length: > 0 }
                ? $"${ClangEnvironmentVariable}"
                : $"the default candidates (set ${ClangEnvironmentVariable} to use another clang)";
        throw new BindingGeneratorException(
            $"no clang could be started to parse {headerPath}: tried {string.Join(", ", notFound)} from {source}. "
            + "Install clang-14 (apt-get install clang-14; ./build.sh does this) or point "
            + $"${ClangEnvironmentVariable} at a clang binary.");
    }

    private static List<string> Candidates(string? clangPath)
    {
        if (!string.IsNullOrEmpty(clangPath))
        {
            return [clangPath];
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(ClangEnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return [fromEnvironment];
        }

        return ["clang-14", "clang"];
    }

    private static ProcessStartInfo CreateStartInfo(string clang, string headerPath)
    {
        var startInfo = new ProcessStartInfo(clang)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (string argument in new[] { "-x", "c", "-std=c11", "-Xclang", "-ast-dump=json", "-fsyntax-only", headerPath })
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    private static byte[] ReadOutput(Process process, string clang, string headerPath)
    {
        // stderr is drained concurrently so that neither pipe can fill up and stall clang.
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var stdout = new MemoryStream(1 << 20);
        process.StandardOutput.BaseStream.CopyTo(stdout);
        process.WaitForExit();
        string errors = stderr.GetAwaiter().GetResult();
        if (process.ExitCode != 0)
        {
            throw new BindingGeneratorException(
                $"'{clang} -x c -std=c11 -Xclang -ast-dump=json -fsyntax-only {headerPath}' failed with exit code {process.ExitCode}:"
                + Environment.NewLine + errors.TrimEnd());
        }

        if (stdout.Length == 0)
        {
            throw new BindingGeneratorException($"'{clang}' printed no AST for {headerPath}." + Environment.NewLine + errors.TrimEnd());
        }

        return stdout.ToArray();
    }
}
