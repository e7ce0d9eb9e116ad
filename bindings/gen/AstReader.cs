using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace IpcCore.BindGen;

/// <summary>Turns clang's JSON AST of the header into the <see cref="BindingModel"/>.</summary>
internal sealed partial class AstReader
{
    internal const string FunctionPrefix = "IpcNative_";
    internal const string NoGcTransitionAnnotation = "ipc_no_gc_transition";
    private const string TypePrefix = "Ipc";
    private const string ConstantPrefix = "IPC_";

    private readonly string _headerPath;
    private readonly SourceText _header;
    private readonly SourceLocations _locations;
    private readonly TypeMapper _types = new();
    private readonly Dictionary<string, SourceText> _otherFiles = new(StringComparer.Ordinal);

    private AstReader(string headerPath, SourceText header, SourceLocations locations)
    {
        _headerPath = headerPath;
        _header = header;
        _locations = locations;
    }

    internal static BindingModel Read(JsonElement root, string headerPath, SourceText header)
    {
        var reader = new AstReader(headerPath, header, SourceLocations.Index(root));
        return reader.Read(root);
    }

    private BindingModel Read(JsonElement root)
    {
        List<JsonElement> declarations = HeaderDeclarations(root);
        if (declarations.Count == 0)
        {
            throw new BindingGeneratorException(
                $"clang reported no declarations from {_header.DisplayName} ({_headerPath}); nothing to generate.");
        }

        Dictionary<string, string> tagNames = NameTags(declarations);

        var types = new List<TypeModel>();
        var functions = new List<FunctionModel>();
        var csNames = new HashSet<string>(StringComparer.Ordinal);
        var functionNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonElement declaration in declarations)
        {
            switch (Kind(declaration))
            {
                case "EnumDecl":
                    types.Add(ReadEnum(declaration, tagNames[Id(declaration)]));
                    break;
                case "RecordDecl" when declaration.TryGetProperty("completeDefinition", out JsonElement complete) && complete.GetBoolean():
                    types.Add(ReadStruct(declaration, tagNames[Id(declaration)]));
                    break;
                case "FunctionDecl" when Name(declaration)?.StartsWith(FunctionPrefix, StringComparison.Ordinal) == true:
                    if (declaration.TryGetProperty("previousDecl", out _))
                    {
                        break; // A redeclaration: the first prototype is the binding.
                    }

                    FunctionModel function = ReadFunction(declaration);
                    if (!functionNames.Add(function.CsName))
                    {
                        throw Error(declaration, $"{function.CName}: a second function maps to the C# name '{function.CsName}'.");
                    }

                    functions.Add(function);
                    break;
                default:
                    break;
            }
        }

        foreach (TypeModel type in types)
        {
            if (!csNames.Add(type.CsName) || type.CsName == "IpcNative" || type.CsName == "Libraries")
            {
                throw new BindingGeneratorException(
                    $"{_header.DisplayName}: {type.CName} maps to the C# name '{type.CsName}', which is already taken.");
            }
        }

        return new BindingModel(_header.DisplayName, types, functions);
    }

    /// <summary>The top-level declarations whose location is in the header itself (not its includes).</summary>
    private List<JsonElement> HeaderDeclarations(JsonElement root)
    {
        var result = new List<JsonElement>();
        if (!root.TryGetProperty("inner", out JsonElement inner))
        {
            return result;
        }

        foreach (JsonElement node in inner.EnumerateArray())
        {
            if (node.TryGetProperty("isImplicit", out JsonElement implicitFlag) && implicitFlag.GetBoolean())
            {
                continue;
            }

            NodeLocations locations = _locations.Of(node);
            string? file = (locations.Loc ?? locations.Begin)?.Expansion.File;
            if (IsHeader(file))
            {
                result.Add(node);
            }
        }

        return result;
    }

    private bool IsHeader(string? file)
    {
        if (file is null)
        {
            return false;
        }

        if (string.Equals(file, _headerPath, StringComparison.Ordinal))
        {
            return true;
        }

        try
        {
            return string.Equals(Path.GetFullPath(file), _headerPath, StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false; // Not a path (e.g. "<built-in>").
        }
    }

    /// <summary>
    /// The C name of every enum and struct of the header: the typedef that names it (what C code writes),
    /// else its tag. Registers both spellings with the type mapper.
    /// </summary>
    private Dictionary<string, string> NameTags(List<JsonElement> declarations)
    {
        var tags = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonElement declaration in declarations)
        {
            string kind = Kind(declaration);
            if (kind == "EnumDecl"
                || (kind == "RecordDecl" && declaration.TryGetProperty("completeDefinition", out JsonElement complete) && complete.GetBoolean()))
            {
                tags[Id(declaration)] = declaration;
            }
            else if (kind == "TypedefDecl" && FindTagReference(declaration) is { } tagId && tags.ContainsKey(tagId))
            {
                names.TryAdd(tagId, Name(declaration)!);
            }
        }

        foreach ((string id, JsonElement tag) in tags)
        {
            string? tagName = Name(tag);
            if (!names.TryGetValue(id, out string? cName))
            {
                cName = tagName ?? throw Error(tag, $"an anonymous {Kind(tag)} without a typedef name cannot be bound.");
                names[id] = cName;
            }

            string csName = StripPrefix(cName, TypePrefix);
            string keyword = Kind(tag) == "EnumDecl" ? "enum" : TagKeyword(tag);
            _types.AddType(cName, csName);
            if (tagName is not null)
            {
                _types.AddType($"{keyword} {tagName}", csName);
            }
        }

        return names;
    }

    private static string TagKeyword(JsonElement record) =>
        record.TryGetProperty("tagUsed", out JsonElement tagUsed) ? tagUsed.GetString()! : "struct";

    /// <summary>The id of the enum or record a typedef names (its ownedTagDecl, or the decl of its tag type).</summary>
    private static string? FindTagReference(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in element.EnumerateObject())
            {
                if (property.Name is "ownedTagDecl" or "decl"
                    && property.Value.TryGetProperty("kind", out JsonElement kind)
                    && kind.GetString() is "EnumDecl" or "RecordDecl")
                {
                    return property.Value.GetProperty("id").GetString();
                }

                if (property.Name == "inner" && FindTagReference(property.Value) is { } found)
                {
                    return found;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in element.EnumerateArray())
            {
                if (FindTagReference(item) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }

    private EnumModel ReadEnum(JsonElement declaration, string cName)
    {
        var members = new List<EnumMemberModel>();
        long next = 0;
        foreach (JsonElement constant in Inner(declaration).Where(n => Kind(n) == "EnumConstantDecl"))
        {
            string name = Name(constant)!;
            long value = next;
            bool hex = false;
            if (constant.TryGetProperty("inner", out JsonElement init))
            {
                JsonElement? constantExpr = init.EnumerateArray().Where(n => Kind(n) == "ConstantExpr").Cast<JsonElement?>().FirstOrDefault();
                if (constantExpr is null
                    || !constantExpr.Value.TryGetProperty("value", out JsonElement evaluated)
                    || !long.TryParse(evaluated.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
                {
                    throw Error(constant, $"{cName}.{name}: clang gave no evaluated value for the initializer.");
                }

                // Flags written in hex in the header stay hex in C# (the value is still clang's).
                hex = value >= 0 && SpelledInHex(constantExpr.Value);
            }

            if (value is < int.MinValue or > int.MaxValue)
            {
                throw Error(constant, $"{cName}.{name} = {value.ToString(CultureInfo.InvariantCulture)} does not fit the enum's C# type int.");
            }

            members.Add(new EnumMemberModel(name, Identifier(StripPrefix(name, ConstantPrefix)), value, hex, MemberDoc(constant)));
            next = value + 1;
        }

        return new EnumModel(cName, StripPrefix(cName, TypePrefix), LeadingDoc(declaration), members);
    }

    private bool SpelledInHex(JsonElement expression)
    {
        NodeLocations locations = _locations.Of(expression);
        if (locations.Begin?.Expansion is { } begin && locations.End?.Expansion is { } end && IsHeader(begin.File))
        {
            return _header.Slice(begin.Offset, end.EndOffset).Trim().StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        }

        return false;
    }

    private StructModel ReadStruct(JsonElement declaration, string cName)
    {
        if (TagKeyword(declaration) != "struct")
        {
            throw Error(declaration, $"{cName}: a {TagKeyword(declaration)} cannot be bound; only structs are mapped.");
        }

        var fields = new List<FieldModel>();
        foreach (JsonElement field in Inner(declaration))
        {
            string kind = Kind(field);
            if (kind != "FieldDecl")
            {
                if (kind is "RecordDecl" or "EnumDecl")
                {
                    throw Error(field, $"{cName}: nested type declarations are not supported.");
                }

                continue;
            }

            string name = Name(field) ?? throw Error(field, $"{cName}: an unnamed field cannot be bound.");
            if (field.TryGetProperty("isBitfield", out JsonElement bitfield) && bitfield.GetBoolean())
            {
                throw Error(field, $"{cName}.{name}: bit-fields cannot be bound.");
            }

            string qualType = QualType(field);
            string csType = _types.Map(qualType, TypeUse.Field, out string reason)
                ?? throw Error(field, $"{cName}: field '{name}' has type '{qualType}', which has no C# mapping: {reason}.");
            fields.Add(new FieldModel(name, Identifier(char.ToUpperInvariant(name[0]) + name[1..]), csType, MemberDoc(field)));
        }

        return new StructModel(cName, StripPrefix(cName, TypePrefix), LeadingDoc(declaration), fields);
    }

    private FunctionModel ReadFunction(JsonElement declaration)
    {
        string cName = Name(declaration)!;
        string csName = cName[FunctionPrefix.Length..];
        if (csName.Length == 0 || !IsIdentifier(csName))
        {
            throw Error(declaration, $"{cName}: '{csName}' is not a valid C# method name.");
        }

        if (declaration.TryGetProperty("variadic", out JsonElement variadic) && variadic.GetBoolean())
        {
            throw Error(declaration, $"{cName}: variadic functions cannot be bound.");
        }

        if (declaration.TryGetProperty("storageClass", out JsonElement storage) && storage.GetString() == "static")
        {
            throw Error(declaration, $"{cName}: a static function is not an export of the library.");
        }

        var parameters = new List<ParameterModel>();
        bool suppressGcTransition = false;
        foreach (JsonElement child in Inner(declaration))
        {
            switch (Kind(child))
            {
                case "ParmVarDecl":
                    string name = Name(child)
                        ?? throw Error(child, $"{cName}: parameter {parameters.Count + 1} has no name; the bindings keep the header's parameter names.");
                    string qualType = QualType(child);
                    string csType = _types.Map(qualType, TypeUse.Parameter, out string reason)
                        ?? throw Error(child, $"{cName}: parameter '{name}' has type '{qualType}', which has no C# mapping: {reason}.");
                    parameters.Add(new ParameterModel(Identifier(name), csType));
                    break;
                case "AnnotateAttr":
                    string annotation = ReadAnnotation(child, cName);
                    if (annotation != NoGcTransitionAnnotation)
                    {
                        throw Error(child, $"{cName}: unknown annotation \"{annotation}\" (only \"{NoGcTransitionAnnotation}\" is mapped).");
                    }

                    suppressGcTransition = true;
                    break;
                default:
                    break;
            }
        }

        string functionType = QualType(declaration);
        int open = functionType.IndexOf('(', StringComparison.Ordinal);
        if (open <= 0 || functionType.IndexOf('(', open + 1) >= 0)
        {
            throw Error(declaration, $"{cName}: the function type '{functionType}' is not supported (function pointers are not mapped).");
        }

        string returnQualType = functionType[..open].Trim();
        string returnType = _types.Map(returnQualType, TypeUse.Return, out string returnReason)
            ?? throw Error(declaration, $"{cName}: the return type '{returnQualType}' has no C# mapping: {returnReason}.");

        return new FunctionModel(cName, csName, returnType, parameters, suppressGcTransition, LeadingDoc(declaration));
    }

    /// <summary>
    /// The string of <c>__attribute__((annotate("...")))</c>. clang 14's JSON omits it, so it is read from
    /// where the attribute was spelled (usually the IPC_NO_GC_TRANSITION macro definition).
    /// </summary>
    private string ReadAnnotation(JsonElement attribute, string function)
    {
        NodeLocations locations = _locations.Of(attribute);
        if (locations.Begin is { } begin && locations.End is { } end && begin.Spelling.File is { } file
            && string.Equals(file, end.Spelling.File, StringComparison.Ordinal))
        {
            SourceText text = Text(file);
            Match match = AnnotationString().Match(text.Slice(begin.Spelling.Offset, end.Spelling.EndOffset));
            if (match.Success)
            {
                return Regex.Unescape(match.Groups[1].Value);
            }
        }

        throw Error(attribute, $"{function}: cannot read the text of its annotate attribute.");
    }

    private SourceText Text(string file)
    {
        if (IsHeader(file))
        {
            return _header;
        }

        if (!_otherFiles.TryGetValue(file, out SourceText? text))
        {
            text = new SourceText(File.ReadAllBytes(file), file);
            _otherFiles[file] = text;
        }

        return text;
    }

    private IReadOnlyList<string>? LeadingDoc(JsonElement node)
    {
        NodeLocations locations = _locations.Of(node);
        SourcePosition? begin = locations.Begin?.Expansion ?? locations.Loc?.Expansion;
        return begin is { } position && IsHeader(position.File) ? _header.LeadingComment(position.Offset) : null;
    }

    private IReadOnlyList<string>? MemberDoc(JsonElement node)
    {
        IReadOnlyList<string>? leading = LeadingDoc(node);
        if (leading is not null)
        {
            return leading;
        }

        SourcePosition? end = _locations.Of(node).End?.Expansion;
        return end is { } position && IsHeader(position.File) ? _header.TrailingComment(position.EndOffset) : null;
    }

    private BindingGeneratorException Error(JsonElement node, string message)
    {
        NodeLocations locations = _locations.Of(node);
        SourcePosition? position = locations.Loc?.Expansion ?? locations.Begin?.Expansion;
        string where = position is { } p && IsHeader(p.File) ? _header.Where(p.Offset) : _header.DisplayName;
        return new BindingGeneratorException($"{where}: {message}");
    }

    private static string StripPrefix(string name, string prefix) =>
        name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;

    private static List<JsonElement> Inner(JsonElement node) =>
        node.TryGetProperty("inner", out JsonElement inner) ? [.. inner.EnumerateArray()] : [];

    private static string Kind(JsonElement node) =>
        node.TryGetProperty("kind", out JsonElement kind) ? kind.GetString() ?? string.Empty : string.Empty;

    private static string Id(JsonElement node) => node.GetProperty("id").GetString()!;

    private static string? Name(JsonElement node) =>
        node.TryGetProperty("name", out JsonElement name) && name.GetString() is { Length: > 0 } value ? value : null;

    private static string QualType(JsonElement node) => node.GetProperty("type").GetProperty("qualType").GetString()!;

    private static bool IsIdentifier(string name) => IdentifierPattern().IsMatch(name);

    /// <summary>A C identifier as a C# identifier (<c>@</c>-escaped when it is a C# keyword).</summary>
    internal static string Identifier(string name) => CSharpKeywords.Contains(name) ? "@" + name : name;

    private static readonly HashSet<string> CSharpKeywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    [GeneratedRegex(@"annotate\s*\(\s*""((?:[^""\\]|\\.)*)""")]
    private static partial Regex AnnotationString();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();
}
