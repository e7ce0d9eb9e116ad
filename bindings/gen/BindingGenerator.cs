using System.Text.Json;

namespace IpcCore.BindGen;

/// <summary>
/// Generates the C# interop file (bindings/Interop.IpcNative.g.cs) from the shim's C header, following
/// the mapping rules of bindings/README.md. The header is parsed by clang
/// (<c>-Xclang -ast-dump=json</c>); only declarations of the header itself are bound.
/// </summary>
public static class BindingGenerator
{
    /// <summary>The command that regenerates the checked-in bindings.</summary>
    public const string RegenerateCommand = "./build.sh gen";

    /// <summary>
    /// The full text of the generated C# file for <paramref name="headerPath"/>: deterministic, LF line
    /// endings, ending with a newline.
    /// </summary>
    /// <param name="headerPath">The C header (ipccore.h).</param>
    /// <param name="clangPath">The clang binary; null uses $IPCCORE_CLANG, else clang-14, else clang.</param>
    /// <exception cref="BindingGeneratorException">clang is missing or fails, or the header uses something the rules do not map.</exception>
    public static string Generate(string headerPath, string? clangPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(headerPath);
        string fullPath = Path.GetFullPath(headerPath);
        if (!File.Exists(fullPath))
        {
            throw new BindingGeneratorException($"the header {headerPath} does not exist (looked at {fullPath}).");
        }

        var header = new SourceText(File.ReadAllBytes(fullPath), DisplayName(fullPath));
        byte[] json = ClangAstDump.Run(fullPath, clangPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 10_000 });
        }
        catch (JsonException e)
        {
            throw new BindingGeneratorException($"clang's AST dump of {header.DisplayName} is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            BindingModel model = AstReader.Read(document.RootElement, fullPath, header);
            return Emitter.Emit(model);
        }
    }

    /// <summary>
    /// The header's path relative to the repository root (the nearest directory up with IpcCore.sln or
    /// .git), with '/' separators, so the output does not depend on where the repository is checked out.
    /// Outside a repository: the file name.
    /// </summary>
    internal static string DisplayName(string fullPath)
    {
        for (DirectoryInfo? directory = new FileInfo(fullPath).Directory; directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "IpcCore.sln"))
                || Directory.Exists(Path.Combine(directory.FullName, ".git"))
                || File.Exists(Path.Combine(directory.FullName, ".git")))
            {
                return Path.GetRelativePath(directory.FullName, fullPath).Replace(Path.DirectorySeparatorChar, '/');
            }
        }

        return Path.GetFileName(fullPath);
    }
}
