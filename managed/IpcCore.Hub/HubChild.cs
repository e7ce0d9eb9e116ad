using System.Text;
using IpcCore.Protocol;

namespace IpcCore.Hub;

/// <summary>What a child process the hub runs does with its pipe.</summary>
public enum HubChildRole
{
    /// <summary><c>--child CHANNEL=COMMAND</c>: each line COMMAND writes to stdout is published to CHANNEL.</summary>
    Publisher,

    /// <summary><c>--child-sub PATTERN=COMMAND</c>: each message on PATTERN is written to COMMAND's stdin, one line each.</summary>
    Subscriber,
}

/// <summary>A child process the hub runs with <c>/bin/sh -c COMMAND</c>, connected to it by a pipe.</summary>
public sealed record HubChild(HubChildRole Role, string Channel, string Command)
{
    /// <summary>Parses <c>CHANNEL=COMMAND</c> (the first '=' separates them).</summary>
    /// <exception cref="FormatException">The message names the option and what is wrong.</exception>
    public static HubChild Parse(HubChildRole role, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string option = OptionName(role);
        int equals = value.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == value.Length - 1)
        {
            throw new FormatException($"{option} takes {(role == HubChildRole.Publisher ? "CHANNEL" : "PATTERN")}=COMMAND (got '{value}')");
        }
        var child = new HubChild(role, value[..equals], value[(equals + 1)..]);
        string? problem = child.Validate();
        return problem is null ? child : throw new FormatException(problem);
    }

    /// <summary>The command-line option of a role.</summary>
    public static string OptionName(HubChildRole role) => role == HubChildRole.Publisher ? "--child" : "--child-sub";

    /// <summary>The first problem, naming the option, or null.</summary>
    public string? Validate()
    {
        string option = OptionName(Role);
        byte[] channel = Encoding.UTF8.GetBytes(Channel ?? "");
        bool valid = Role == HubChildRole.Publisher ? ChannelName.IsValidName(channel) : ChannelName.IsValidPattern(channel);
        if (!valid || channel.Length > FrameHeader.MaxChannelLength)
        {
            string why = ChannelName.Explain(channel, allowWildcards: Role == HubChildRole.Subscriber) ?? "invalid";
            return $"{option} '{Channel}={Command}': the {(Role == HubChildRole.Publisher ? "channel" : "pattern")} is not valid: {why}";
        }
        if (string.IsNullOrWhiteSpace(Command) || Command.Contains('\0', StringComparison.Ordinal))
        {
            return $"{option} '{Channel}=': the command is empty";
        }
        return null;
    }

    public override string ToString() => $"{OptionName(Role)} {Channel}={Command}";
}
