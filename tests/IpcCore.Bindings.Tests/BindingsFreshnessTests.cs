using System.Text;
using IpcCore.BindGen;
using NUnit.Framework;

namespace IpcCore.Bindings.Tests;

/// <summary>The checked-in bindings are exactly what the generator makes of the checked-in header.</summary>
[TestFixture]
public sealed class BindingsFreshnessTests
{
    private static string StaleMessage =>
        $"{TestSupport.GeneratedRelativePath} is stale: regenerate with {BindingGenerator.RegenerateCommand}";

    [Test]
    public void BindingsAreFresh()
    {
        Assert.That(File.Exists(TestSupport.GeneratedPath), Is.True,
            $"{TestSupport.GeneratedRelativePath} is missing: generate it with {BindingGenerator.RegenerateCommand}");

        string generated = BindingGenerator.Generate(TestSupport.HeaderPath);
        byte[] checkedIn = File.ReadAllBytes(TestSupport.GeneratedPath);
        if (!checkedIn.AsSpan().SequenceEqual(new UTF8Encoding(false).GetBytes(generated)))
        {
            string? diff = TextDiff.Describe(Encoding.UTF8.GetString(checkedIn), generated, "checked in", "generated from " + TestSupport.HeaderRelativePath);
            Assert.Fail($"{StaleMessage}\n{diff}");
        }
    }

    [Test]
    public void A_header_change_makes_the_bindings_stale()
    {
        using var repo = CopyOfHeaderInFakeRepo(out string header);
        string unchanged = BindingGenerator.Generate(header);
        Assert.That(unchanged, Is.EqualTo(File.ReadAllText(TestSupport.GeneratedPath)),
            "an unchanged copy of the header (same repository-relative path) generates the checked-in file");

        AddPrototype(header, "/** Added by a test. */\nIPC_EXPORT int32_t IpcNative_AddedByTest(IpcFd fd, int64_t value);\n\n");
        string changed = BindingGenerator.Generate(header);
        string? diff = TextDiff.Describe(unchanged, changed, "before", "after");

        Assert.That(diff, Is.Not.Null, "adding a function must change the bindings");
        Assert.That(diff, Does.Contain("internal static partial int AddedByTest(SafeHandle fd, long value);"));
    }

    [Test]
    public void Generator_check_mode_exits_1_on_stale_bindings_and_the_normal_mode_fixes_them()
    {
        using var repo = CopyOfHeaderInFakeRepo(out string header);
        string output = repo.Write(TestSupport.GeneratedRelativePath, File.ReadAllText(TestSupport.GeneratedPath));

        TestSupport.ProcessResult fresh = RunGenerator(repo.Path, "--check");
        Assert.That(fresh.ExitCode, Is.EqualTo(0), fresh.Output);

        AddPrototype(header, "IPC_EXPORT int32_t IpcNative_AddedByTest(void);\n\n");
        TestSupport.ProcessResult stale = RunGenerator(repo.Path, "--check");
        Assert.That(stale.ExitCode, Is.EqualTo(1), stale.Output);
        Assert.That(stale.StandardError, Does.Contain(StaleMessage));
        Assert.That(stale.StandardError, Does.Contain("AddedByTest"), "the message shows the first differing lines");

        DateTime before = File.GetLastWriteTimeUtc(output);
        TestSupport.ProcessResult regenerate = RunGenerator(repo.Path);
        Assert.That(regenerate.ExitCode, Is.EqualTo(0), regenerate.Output);
        Assert.That(File.ReadAllText(output), Is.EqualTo(BindingGenerator.Generate(header)));

        File.SetLastWriteTimeUtc(output, before);
        TestSupport.ProcessResult again = RunGenerator(repo.Path);
        Assert.That(again.ExitCode, Is.EqualTo(0), again.Output);
        Assert.That(File.GetLastWriteTimeUtc(output), Is.EqualTo(before), "an unchanged file is not rewritten");
        Assert.That(RunGenerator(repo.Path, "--check").ExitCode, Is.EqualTo(0));
    }

    /// <summary>A temp directory laid out like the repository (IpcCore.sln + native/include/ipccore.h).</summary>
    private static TestSupport.TempDirectory CopyOfHeaderInFakeRepo(out string header)
    {
        var repo = new TestSupport.TempDirectory();
        repo.Write("IpcCore.sln", string.Empty);
        header = repo.Write(TestSupport.HeaderRelativePath, File.ReadAllText(TestSupport.HeaderPath));
        return repo;
    }

    private static void AddPrototype(string header, string prototype)
    {
        string text = File.ReadAllText(header);
        int end = text.LastIndexOf("#ifdef __cplusplus", StringComparison.Ordinal);
        Assert.That(end, Is.GreaterThan(0), "the header ends with the extern \"C\" closing block");
        File.WriteAllText(header, text.Insert(end, prototype));
    }

    private static TestSupport.ProcessResult RunGenerator(string workingDirectory, params string[] extra)
    {
        string generator = typeof(BindingGenerator).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return TestSupport.Run(
            dotnet,
            [generator, TestSupport.HeaderRelativePath, TestSupport.GeneratedRelativePath, .. extra],
            workingDirectory);
    }
}
