using IpcCore.Protocol;

namespace IpcCore.Cli;

/// <summary>The --backend names and how the tools describe each transport.</summary>
public static class Backends
{
    /// <summary>Every name --backend accepts.</summary>
    public static readonly string[] Names = ["socket", "fifo", "mqueue", "shm", "pipe"];

    /// <summary>The transport a --backend name stands for.</summary>
    public static TransportKind Parse(string name) => name switch
    {
        "socket" => TransportKind.Socket,
        "fifo" => TransportKind.Fifo,
        "mqueue" => TransportKind.MessageQueue,
        "shm" => TransportKind.SharedMemory,
        "pipe" => TransportKind.Pipe,
        _ => throw new UsageException($"unknown backend '{name}' (use one of: {string.Join(", ", Names)})"),
    };

    /// <summary>How status lines name a transport: "Connected to hub via UNIX socket".</summary>
    public static string Describe(TransportKind kind) => kind switch
    {
        TransportKind.Socket => "UNIX socket",
        TransportKind.Fifo => "named pipe (FIFO)",
        TransportKind.MessageQueue => "message queue",
        TransportKind.SharedMemory => "shared memory",
        TransportKind.Pipe => "anonymous pipe",
        _ => kind.ToString(),
    };
}
