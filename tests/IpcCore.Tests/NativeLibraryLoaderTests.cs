using System.Diagnostics;
using System.Runtime.InteropServices;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

[TestFixture]
public sealed class NativeLibraryLoaderTests
{
    [Test]
    public void The_loaded_shim_reports_the_abi_version_of_the_bindings()
        => Assert.That(IpcNative.GetAbiVersion(), Is.EqualTo((int)Abi.ABI_VERSION));

    [Test]
    public void A_library_with_another_abi_version_is_refused_with_a_clear_message()
    {
        string dir = TestNames.Directory("abi");
        try
        {
            string lib = BuildFakeShim(dir, abiVersion: (int)Abi.ABI_VERSION + 1);
            IntPtr handle = NativeLibrary.Load(lib);
            try
            {
                var e = Assert.Throws<DllNotFoundException>(() => NativeLibraryLoader.VerifyAbi(handle, lib));
                Assert.That(e!.Message, Does.Contain($"ABI version {(int)Abi.ABI_VERSION + 1}")
                    .And.Contain($"generated for version {(int)Abi.ABI_VERSION}"));
            }
            finally
            {
                NativeLibrary.Free(handle);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void A_library_that_is_not_the_shim_is_refused()
    {
        string dir = TestNames.Directory("abi");
        try
        {
            string lib = BuildFakeShim(dir, abiVersion: null);
            IntPtr handle = NativeLibrary.Load(lib);
            try
            {
                var e = Assert.Throws<DllNotFoundException>(() => NativeLibraryLoader.VerifyAbi(handle, lib));
                Assert.That(e!.Message, Does.Contain("not the IpcCore shim"));
            }
            finally
            {
                NativeLibrary.Free(handle);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string BuildFakeShim(string dir, int? abiVersion)
    {
        string source = Path.Combine(dir, "fake.c");
        string lib = Path.Combine(dir, "libfake.so");
        File.WriteAllText(source, abiVersion is int v
            ? $"int IpcNative_GetAbiVersion(void) {{ return {v}; }}\n"
            : "int something_else(void) { return 0; }\n");
        var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "-shared", "-fPIC", "-o", lib, source })
        {
            psi.ArgumentList.Add(a);
        }
        using Process gcc = Process.Start(psi)!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        Assert.That(gcc.ExitCode, Is.Zero, errors);
        return lib;
    }
}
