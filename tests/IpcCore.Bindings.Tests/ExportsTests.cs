using System.Reflection;
using System.Runtime.InteropServices;
using IpcCore.Native;
using NUnit.Framework;

namespace IpcCore.Bindings.Tests;

/// <summary>Every binding has an export in libipccore.so and every IpcNative_* export has a binding.</summary>
[TestFixture]
public sealed class ExportsTests
{
    [Test]
    public void LibraryImports_equal_the_IpcNative_exports_of_libipccore()
    {
        string library = Path.Combine(TestSupport.RepoRoot, TestSupport.LibraryRelativePath);
        Assert.That(File.Exists(library), Is.True,
            $"{TestSupport.LibraryRelativePath} is missing: build the native shim first (./build.sh or ./build.sh test builds it before the tests).");

        var imported = typeof(IpcNative)
            .GetMethods(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Select(m => m.GetCustomAttribute<LibraryImportAttribute>())
            .OfType<LibraryImportAttribute>()
            .Select(a => a.EntryPoint ?? string.Empty)
            .ToHashSet(StringComparer.Ordinal);
        Assert.That(imported, Is.Not.Empty, "IpcNative has no [LibraryImport] methods");

        TestSupport.ProcessResult nm = TestSupport.Run("nm", ["-D", "--defined-only", library], TestSupport.RepoRoot);
        Assert.That(nm.ExitCode, Is.EqualTo(0), nm.Output);
        var exported = nm.StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1])
            .Where(name => name.StartsWith("IpcNative_", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

        string[] notExported = [.. imported.Except(exported).Order(StringComparer.Ordinal)];
        string[] notImported = [.. exported.Except(imported).Order(StringComparer.Ordinal)];
        Assert.That(notExported.Length + notImported.Length, Is.EqualTo(0),
            $"bindings and {TestSupport.LibraryRelativePath} disagree."
            + $"\n  imported but not exported ({notExported.Length}): {string.Join(", ", notExported)}"
            + $"\n  exported but not imported ({notImported.Length}): {string.Join(", ", notImported)}");
    }
}
