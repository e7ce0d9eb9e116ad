using System.Reflection;

namespace MyIpcFd;

/// <summary>
/// Loads, while the process can still read them, every assembly this program may need later. A reader that
/// drops root to nobody may no longer be able to open files in its own directory (or the runtime's) when they are
/// not readable by others; what is already loaded stays mapped and usable.
/// </summary>
internal static class Preload
{
    /// <summary>Loads the assemblies the entry assembly references, transitively; returns how many are loaded.</summary>
    public static int AllReferencedAssemblies()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<Assembly>();
        foreach (Assembly loaded in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (loaded.FullName is { } name && seen.Add(name))
            {
                pending.Push(loaded);
            }
        }
        while (pending.Count > 0)
        {
            foreach (AssemblyName reference in pending.Pop().GetReferencedAssemblies())
            {
                if (!seen.Add(reference.FullName))
                {
                    continue;
                }
                try
                {
                    pending.Push(Assembly.Load(reference));
                }
                catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    // A reference nothing here uses at run time (e.g. a facade that is not shipped): not needed later either.
                }
            }
        }
        return AppDomain.CurrentDomain.GetAssemblies().Length;
    }
}
