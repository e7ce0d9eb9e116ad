using System.ComponentModel;
using System.Diagnostics;
using NUnit.Framework;

namespace IpcCore.Bindings.Tests;

/// <summary>Paths of the repository and a small process runner for gcc, nm and the generator.</summary>
internal static class TestSupport
{
    internal const string HeaderRelativePath = "native/include/ipccore.h";
    internal const string GeneratedRelativePath = "bindings/Interop.IpcNative.g.cs";
    internal const string LibraryRelativePath = "artifacts/native/libipccore.so";

    private static readonly Lazy<string> Root = new(FindRepoRoot);

    internal static string RepoRoot => Root.Value;

    internal static string HeaderPath => Path.Combine(RepoRoot, HeaderRelativePath);

    internal static string GeneratedPath => Path.Combine(RepoRoot, GeneratedRelativePath);

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "IpcCore.sln"))
                || File.Exists(Path.Combine(directory.FullName, HeaderRelativePath)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"cannot find the repository root (a directory with IpcCore.sln or {HeaderRelativePath}) above {AppContext.BaseDirectory}");
    }

    internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Output => (StandardOutput + StandardError).TrimEnd();
    }

    internal static ProcessResult Run(string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{fileName} did not start");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"cannot run '{fileName}' ({e.Message}): is it installed? ./build.sh installs the tools it needs.");
            throw; // Not reached: Assert.Fail throws.
        }

        using (process)
        {
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return new ProcessResult(process.ExitCode, stdout, stderr.GetAwaiter().GetResult());
        }
    }

    /// <summary>A directory under the temp path, deleted on dispose.</summary>
    internal sealed class TempDirectory : IDisposable
    {
        public TempDirectory()
        {
            Path = Directory.CreateTempSubdirectory("ipccore-bindgen-").FullName;
        }

        public string Path { get; }

        public string Write(string relativePath, string text)
        {
            string full = System.IO.Path.Combine(Path, relativePath);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
            return full;
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp directory is harmless.
            }
        }
    }
}
