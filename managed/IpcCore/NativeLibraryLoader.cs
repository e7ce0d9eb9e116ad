using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using IpcCore.Native;

namespace IpcCore;

/// <summary>
/// Loads libipccore.so on the first call into the shim and refuses a library built from another
/// version of native/include/ipccore.h: a mismatched ABI would corrupt arguments silently, so it must
/// fail loudly, once, at load time.
/// </summary>
internal static class NativeLibraryLoader
{
    // A library initializer is the only hook that runs before the first P/Invoke resolves.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
        => NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    private static unsafe IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != Libraries.IpcNative)
        {
            return IntPtr.Zero;
        }
        if (!NativeLibrary.TryLoad(libraryName, assembly, searchPath, out IntPtr handle))
        {
            throw new DllNotFoundException(
                $"lib{Libraries.IpcNative}.so was not found in {AppContext.BaseDirectory} or on the library path; build it with ./build.sh");
        }
        VerifyAbi(handle, $"lib{Libraries.IpcNative}.so");
        return handle;
    }

    /// <summary>Throws unless the loaded library reports the ABI version these bindings were generated for.</summary>
    internal static unsafe void VerifyAbi(IntPtr handle, string libraryPath)
    {
        if (!NativeLibrary.TryGetExport(handle, "IpcNative_GetAbiVersion", out IntPtr export))
        {
            throw new DllNotFoundException($"{libraryPath} has no IpcNative_GetAbiVersion: it is not the IpcCore shim");
        }
        int version = ((delegate* unmanaged<int>)export)();
        if (version != (int)Abi.ABI_VERSION)
        {
            throw new DllNotFoundException(
                $"{libraryPath} has ABI version {version}, but this IpcCore.dll was generated for version {(int)Abi.ABI_VERSION}; rebuild both with ./build.sh");
        }
    }
}
