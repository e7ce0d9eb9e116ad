using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using IpcCore.Cli;

namespace MyIpcSub;

internal enum OutputFormat
{
    Text,
    Json,
    Raw,
}

/// <summary>
/// Turns a message into the bytes myipcsub prints, in a buffer it reuses (no allocation per message):
/// <list type="bullet">
/// <item>text: <c>[channel] payload\n</c>; the payload as UTF-8 with <c>\</c> as <c>\\</c>, newline <c>\n</c>, CR <c>\r</c>,
/// tab <c>\t</c>, other control bytes and bytes of invalid UTF-8 as <c>\xNN</c>;</item>
/// <item>json: <c>{"channel":"weather","seq":1,"size":11,"text":"Hello World","base64":"SGVsbG8gV29ybGQ="}\n</c>
/// (<c>text</c> is null when the payload is not valid UTF-8);</item>
/// <item>raw: the payload bytes exactly.</item>
/// </list>
/// </summary>
internal sealed class MessageFormatter(OutputFormat format)
{
    private static readonly byte[] s_hex = "0123456789abcdef"u8.ToArray();
    private byte[] _buffer = new byte[64 * 1024];
    private int _length;

    public static OutputFormat Parse(string name) => name switch
    {
        "text" => OutputFormat.Text,
        "json" => OutputFormat.Json,
        "raw" => OutputFormat.Raw,
        _ => throw new UsageException($"unknown format '{name}' (use text, json or raw)"),
    };

    public ReadOnlySpan<byte> Format(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> payload)
    {
        if (format == OutputFormat.Raw)
        {
            return payload;
        }
        _length = 0;
        if (format == OutputFormat.Text)
        {
            Ensure(channel.Length + 4 * payload.Length + 4);
            Put((byte)'[');
            Put(channel);
            Put("] "u8);
            EscapeText(payload);
            Put((byte)'\n');
        }
        else
        {
            Ensure(channel.Length + 6 * payload.Length + Base64.GetMaxEncodedToUtf8Length(payload.Length) + 128);
            Put("{\"channel\":\""u8);
            EscapeJson(channel);
            Put("\",\"seq\":"u8);
            PutNumber(sequence);
            Put(",\"size\":"u8);
            PutNumber((ulong)payload.Length);
            Put(",\"text\":"u8);
            if (Utf8.IsValid(payload))
            {
                Put((byte)'"');
                EscapeJson(payload);
                Put((byte)'"');
            }
            else
            {
                Put("null"u8);
            }
            Put(",\"base64\":\""u8);
            Base64.EncodeToUtf8(payload, _buffer.AsSpan(_length), out _, out int written);
            _length += written;
            Put("\"}\n"u8);
        }
        return _buffer.AsSpan(0, _length);
    }

    /// <summary>
    /// The line for a by-descriptor message saved to <paramref name="path"/>: text <c>[channel] saved PATH (N bytes)</c>,
    /// json <c>{"channel":...,"seq":N,"size":N,"saved":"PATH"}</c>; raw prints nothing (the content is in the file).
    /// </summary>
    public ReadOnlySpan<byte> FormatSaved(ReadOnlySpan<byte> channel, ulong sequence, string path, long size)
        => FormatByReference(channel, sequence, size, "saved", Encoding.UTF8.GetBytes(path), " bytes, from a sealed memfd)\n"u8);

    /// <summary>
    /// The line for a by-descriptor message too large to print as text or JSON (over <see cref="MaxPrintedContent"/>):
    /// text <c>[channel] not printed NAME (N bytes by descriptor; ...)</c>, json <c>{..., "not_printed":"NAME"}</c>.
    /// </summary>
    public ReadOnlySpan<byte> FormatNotPrinted(ReadOnlySpan<byte> channel, ulong sequence, ReadOnlySpan<byte> name, long size)
        => FormatByReference(channel, sequence, size, "not_printed", name,
            " bytes by descriptor; too large to print as text: use --save DIR or --format raw)\n"u8);

    /// <summary>The largest by-descriptor content printed as text or JSON (escaping needs up to 4-6 bytes per byte).</summary>
    public const long MaxPrintedContent = 16L << 20;

    private ReadOnlySpan<byte> FormatByReference(ReadOnlySpan<byte> channel, ulong sequence, long size, string what, ReadOnlySpan<byte> subject,
        ReadOnlySpan<byte> textTail)
    {
        if (format == OutputFormat.Raw)
        {
            return default;
        }
        _length = 0;
        Ensure(channel.Length * 6 + subject.Length * 6 + textTail.Length + 128);
        if (format == OutputFormat.Text)
        {
            Put((byte)'[');
            Put(channel);
            Put("] "u8);
            Put(Encoding.UTF8.GetBytes(what.Replace('_', ' ')));
            Put((byte)' ');
            EscapeText(subject);
            Put(" ("u8);
            PutNumber((ulong)size);
            Put(textTail);
        }
        else
        {
            Put("{\"channel\":\""u8);
            EscapeJson(channel);
            Put("\",\"seq\":"u8);
            PutNumber(sequence);
            Put(",\"size\":"u8);
            PutNumber((ulong)size);
            Put(",\""u8);
            Put(Encoding.UTF8.GetBytes(what));
            Put("\":\""u8);
            EscapeJson(subject);
            Put("\"}\n"u8);
        }
        return _buffer.AsSpan(0, _length);
    }

    private void EscapeText(ReadOnlySpan<byte> payload)
    {
        int i = 0;
        while (i < payload.Length)
        {
            byte b = payload[i];
            if (b < 0x80)
            {
                switch (b)
                {
                    case (byte)'\\':
                        Put("\\\\"u8);
                        break;
                    case (byte)'\n':
                        Put("\\n"u8);
                        break;
                    case (byte)'\r':
                        Put("\\r"u8);
                        break;
                    case (byte)'\t':
                        Put("\\t"u8);
                        break;
                    case < 0x20 or 0x7f:
                        PutHexEscape(b);
                        break;
                    default:
                        Put(b);
                        break;
                }
                i++;
                continue;
            }
            if (Rune.DecodeFromUtf8(payload[i..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
            {
                Put(payload.Slice(i, consumed));
                i += consumed;
            }
            else
            {
                PutHexEscape(b); // one byte of invalid UTF-8
                i++;
            }
        }
    }

    private void EscapeJson(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            switch (b)
            {
                case (byte)'"':
                    Put("\\\""u8);
                    break;
                case (byte)'\\':
                    Put("\\\\"u8);
                    break;
                case (byte)'\n':
                    Put("\\n"u8);
                    break;
                case (byte)'\r':
                    Put("\\r"u8);
                    break;
                case (byte)'\t':
                    Put("\\t"u8);
                    break;
                case < 0x20:
                    Put("\\u00"u8);
                    Put(s_hex[b >> 4]);
                    Put(s_hex[b & 0xf]);
                    break;
                default:
                    Put(b);
                    break;
            }
        }
    }

    private void PutHexEscape(byte b)
    {
        Put("\\x"u8);
        Put(s_hex[b >> 4]);
        Put(s_hex[b & 0xf]);
    }

    private void PutNumber(ulong value)
    {
        value.TryFormat(_buffer.AsSpan(_length), out int written, default, CultureInfo.InvariantCulture);
        _length += written;
    }

    private void Put(byte b) => _buffer[_length++] = b;

    private void Put(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Ensure(int size)
    {
        if (_buffer.Length < size)
        {
            _buffer = new byte[Math.Max(size, _buffer.Length * 2)];
        }
    }
}
