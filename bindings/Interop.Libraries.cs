// The native library every generated import binds to: libipccore.so, built from native/ by CMake
// and copied next to the managed assemblies.
namespace IpcCore.Native;

internal static class Libraries
{
    internal const string IpcNative = "ipccore";
}
