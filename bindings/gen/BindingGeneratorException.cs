namespace IpcCore.BindGen;

/// <summary>
/// The header cannot be turned into bindings: clang is missing or failed, or a declaration uses
/// something the mapping rules of bindings/README.md do not cover. The message says what and where.
/// </summary>
public sealed class BindingGeneratorException : Exception
{
    public BindingGeneratorException()
    {
    }

    public BindingGeneratorException(string message)
        : base(message)
    {
    }

    public BindingGeneratorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
