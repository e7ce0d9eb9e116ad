using System.Text;
using IpcCore.Native;

namespace IpcCore;

/// <summary>errno names and descriptions from the shim (strerrorname_np / strerror_r).</summary>
public static class ErrnoText
{
    /// <summary>The symbolic name of an errno (<c>EACCES</c>), or <c>E&lt;n&gt;</c> when it has none.</summary>
    public static unsafe string NameOf(int errno)
    {
        byte* buf = stackalloc byte[64];
        int len = IpcNative.ErrnoName(errno, buf, 64);
        return len > 0 ? Encoding.UTF8.GetString(buf, len) : "E" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The system's description of an errno (<c>Permission denied</c>).</summary>
    public static unsafe string DescribeOf(int errno)
    {
        byte* buf = stackalloc byte[256];
        int len = IpcNative.StrError(errno, buf, 256);
        return len > 0 ? Encoding.UTF8.GetString(buf, len) : "Unknown error " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
