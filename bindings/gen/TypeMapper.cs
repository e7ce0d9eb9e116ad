using System.Text.RegularExpressions;

namespace IpcCore.BindGen;

internal enum TypeUse
{
    Parameter,
    Return,
    Field,
}

/// <summary>
/// Maps clang <c>qualType</c> spellings (typedef names kept, e.g. <c>IpcFd</c>, <c>const uint8_t *</c>,
/// <c>IpcMqAttr *</c>) to C# types following bindings/README.md. Anything else has no mapping.
/// </summary>
internal sealed partial class TypeMapper
{
    internal const string FdTypedef = "IpcFd";

    private static readonly Dictionary<string, string> Primitives = new(StringComparer.Ordinal)
    {
        ["int32_t"] = "int",
        ["uint32_t"] = "uint",
        ["int16_t"] = "short",
        ["uint16_t"] = "ushort",
        ["int64_t"] = "long",
        ["uint64_t"] = "ulong",
        ["intptr_t"] = "nint",
        ["uint8_t"] = "byte",
    };

    // C type name (typedef name, "struct Tag" or "enum Tag") -> C# name of a generated enum or struct.
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);

    internal void AddType(string cSpelling, string csName) => _types[cSpelling] = csName;

    /// <summary>The C# type, or null with <paramref name="reason"/> saying why there is none.</summary>
    internal string? Map(string qualType, TypeUse use, out string reason)
    {
        reason = string.Empty;
        var tokens = Tokens().Matches(qualType).Select(m => m.Value).ToList();
        if (tokens.Count == 0 || string.Concat(tokens).Length != qualType.Replace(" ", string.Empty, StringComparison.Ordinal).Length)
        {
            reason = "it is not a plain, pointer or typedef type";
            return null;
        }

        int firstStar = tokens.IndexOf("*");
        List<string> baseTokens = firstStar < 0 ? tokens : tokens[..firstStar];
        List<string> pointerTokens = firstStar < 0 ? [] : tokens[firstStar..];
        if (pointerTokens.Any(t => t is not ("*" or "const")))
        {
            reason = "only '*' and 'const' may follow the pointee type";
            return null;
        }

        int stars = pointerTokens.Count(t => t == "*");
        bool constBase = baseTokens.Remove("const");
        string baseName = string.Join(' ', baseTokens);

        if (baseName == "char" && constBase && stars == 1)
        {
            if (use != TypeUse.Parameter)
            {
                reason = "'const char *' (string) is only mapped for parameters";
                return null;
            }

            return "string";
        }

        if (baseName == FdTypedef)
        {
            if (use != TypeUse.Parameter || stars != 0)
            {
                reason = $"{FdTypedef} is only mapped as a by-value parameter (SafeHandle); use int32_t for results, fields and arrays";
                return null;
            }

            return "SafeHandle";
        }

        string? element;
        if (baseName == "void")
        {
            if (stars == 0 && use != TypeUse.Return)
            {
                reason = "'void' is only a return type";
                return null;
            }

            element = "void";
        }
        else if (!Primitives.TryGetValue(baseName, out element) && !_types.TryGetValue(baseName, out element))
        {
            reason = $"'{baseName}' is not in the mapping table of bindings/README.md and is no enum or struct of the header";
            return null;
        }

        return element + new string('*', stars);
    }

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*|\*")]
    private static partial Regex Tokens();
}
