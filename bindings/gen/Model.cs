namespace IpcCore.BindGen;

/// <summary>What the generator emits, in header order.</summary>
internal sealed record BindingModel(
    string HeaderDisplayName,
    IReadOnlyList<TypeModel> Types,
    IReadOnlyList<FunctionModel> Functions);

internal abstract record TypeModel(string CName, string CsName, IReadOnlyList<string>? Doc);

internal sealed record EnumModel(string CName, string CsName, IReadOnlyList<string>? Doc, IReadOnlyList<EnumMemberModel> Members)
    : TypeModel(CName, CsName, Doc);

internal sealed record EnumMemberModel(string CName, string CsName, long Value, bool Hex, IReadOnlyList<string>? Doc);

internal sealed record StructModel(string CName, string CsName, IReadOnlyList<string>? Doc, IReadOnlyList<FieldModel> Fields)
    : TypeModel(CName, CsName, Doc)
{
    internal bool NeedsUnsafe => Fields.Any(f => f.CsType.Contains('*', StringComparison.Ordinal));
}

internal sealed record FieldModel(string CName, string CsName, string CsType, IReadOnlyList<string>? Doc);

internal sealed record FunctionModel(
    string CName,
    string CsName,
    string ReturnType,
    IReadOnlyList<ParameterModel> Parameters,
    bool SuppressGCTransition,
    IReadOnlyList<string>? Doc);

internal sealed record ParameterModel(string Name, string CsType);
