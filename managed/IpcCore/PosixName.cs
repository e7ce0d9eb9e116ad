namespace IpcCore;

/// <summary>
/// Checks the names of POSIX message queues, semaphores and shared memory before they reach the
/// kernel, so a malformed name is an <see cref="ArgumentException"/> naming the rule it broke rather
/// than an EINVAL or ENOENT that could mean several things.
/// </summary>
internal static class PosixName
{
    /// <summary>NAME_MAX: the longest name after the leading '/'.</summary>
    public const int MaxLength = 255;

    /// <summary>Throws unless <paramref name="name"/> is <c>/</c> followed by 1..255 characters without '/' or NUL.</summary>
    public static void Validate(string name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length < 2 || name[0] != '/')
        {
            throw new ArgumentException($"A POSIX IPC name is '/' followed by at least one character: '{name}'.", paramName);
        }
        if (name.AsSpan(1).ContainsAny('/', '\0'))
        {
            throw new ArgumentException($"A POSIX IPC name has no '/' or NUL after the leading '/': '{name}'.", paramName);
        }
        if (name.Length - 1 > MaxLength)
        {
            throw new ArgumentException($"A POSIX IPC name is at most {MaxLength} characters after the '/' (got {name.Length - 1}).", paramName);
        }
    }
}
