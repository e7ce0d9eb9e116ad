using System.Text.Json;

namespace IpcCore.BindGen;

/// <summary>A position in a source file: the file (as clang names it), byte offset and token length.</summary>
internal readonly record struct SourcePosition(string? File, int Offset, int TokenLength)
{
    internal int EndOffset => Offset + TokenLength;
}

/// <summary>Where a location was spelled and where it was expanded (equal outside macros).</summary>
internal readonly record struct SourceLocation(SourcePosition Spelling, SourcePosition Expansion);

/// <summary>The resolved locations of one AST node.</summary>
internal sealed record NodeLocations(SourceLocation? Loc, SourceLocation? Begin, SourceLocation? End);

/// <summary>
/// Resolves the file of every location in clang's JSON dump. The dumper writes <c>file</c> only when it
/// differs from the previous location it wrote (in document order, nested nodes included, spelling
/// before expansion), so the file is carried along a document-order walk. <c>includedFrom</c> names the
/// includer and does not change the current file.
/// </summary>
internal sealed class SourceLocations
{
    private readonly Dictionary<string, NodeLocations> _byId = new(StringComparer.Ordinal);
    private string? _currentFile;

    private SourceLocations()
    {
    }

    internal static SourceLocations Index(JsonElement root)
    {
        var index = new SourceLocations();
        index.Walk(root);
        return index;
    }

    internal NodeLocations Of(JsonElement node)
    {
        string id = node.GetProperty("id").GetString()!;
        return _byId.TryGetValue(id, out NodeLocations? locations) ? locations : new NodeLocations(null, null, null);
    }

    private void Walk(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (JsonElement item in element.EnumerateArray())
                {
                    Walk(item);
                }

                break;
            case JsonValueKind.Object:
                WalkObject(element);
                break;
            default:
                break;
        }
    }

    private void WalkObject(JsonElement element)
    {
        SourceLocation? loc = null;
        SourceLocation? begin = null;
        SourceLocation? end = null;
        bool located = false;
        foreach (JsonProperty property in element.EnumerateObject())
        {
            switch (property.Name)
            {
                case "loc" when property.Value.ValueKind == JsonValueKind.Object:
                    loc = ReadLocation(property.Value);
                    located = true;
                    break;
                case "range" when property.Value.ValueKind == JsonValueKind.Object:
                    if (property.Value.TryGetProperty("begin", out JsonElement b))
                    {
                        begin = ReadLocation(b);
                    }

                    if (property.Value.TryGetProperty("end", out JsonElement e))
                    {
                        end = ReadLocation(e);
                    }

                    located = true;
                    break;
                case "file" when property.Value.ValueKind == JsonValueKind.String:
                    _currentFile = property.Value.GetString();
                    break;
                case "includedFrom":
                    break;
                default:
                    Walk(property.Value);
                    break;
            }
        }

        // Objects such as "decl": {"id", "kind", "name"} only refer to a node; keep the node's own entry.
        if (located && element.TryGetProperty("id", out JsonElement id) && id.ValueKind == JsonValueKind.String)
        {
            _byId.TryAdd(id.GetString()!, new NodeLocations(loc, begin, end));
        }
    }

    private SourceLocation? ReadLocation(JsonElement location)
    {
        if (location.TryGetProperty("spellingLoc", out JsonElement spelling))
        {
            SourcePosition? s = ReadBare(spelling);
            SourcePosition? x = location.TryGetProperty("expansionLoc", out JsonElement expansion) ? ReadBare(expansion) : null;
            if (s is null && x is null)
            {
                return null;
            }

            return new SourceLocation(s ?? x!.Value, x ?? s!.Value);
        }

        SourcePosition? bare = ReadBare(location);
        return bare is null ? null : new SourceLocation(bare.Value, bare.Value);
    }

    private SourcePosition? ReadBare(JsonElement location)
    {
        if (location.TryGetProperty("file", out JsonElement file) && file.ValueKind == JsonValueKind.String)
        {
            _currentFile = file.GetString();
        }

        if (!location.TryGetProperty("offset", out JsonElement offset) || offset.ValueKind != JsonValueKind.Number)
        {
            return null;
        }

        int tokenLength = location.TryGetProperty("tokLen", out JsonElement tokLen) && tokLen.ValueKind == JsonValueKind.Number
            ? tokLen.GetInt32()
            : 0;
        return new SourcePosition(_currentFile, offset.GetInt32(), tokenLength);
    }
}
