// The peer process of the cross-process tests. Each command is a static method marked
// [PeerCommand("name")] in this project; the test starts `IpcCore.TestPeer name args...`, talks to it
// over stdin/stdout lines and the IPC object under test, and reads its exit code (0 = success).
using System.Reflection;
using IpcCore.TestPeer;

MethodInfo[] commands = typeof(PeerCommandAttribute).Assembly.GetTypes()
    .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
    .Where(m => m.GetCustomAttribute<PeerCommandAttribute>() is not null)
    .ToArray();

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: IpcCore.TestPeer <command> [args...]; commands: "
        + string.Join(", ", commands.Select(m => m.GetCustomAttribute<PeerCommandAttribute>()!.Name)));
    return 2;
}

MethodInfo? command = commands.FirstOrDefault(m => m.GetCustomAttribute<PeerCommandAttribute>()!.Name == args[0]);
if (command is null)
{
    Console.Error.WriteLine($"unknown command '{args[0]}'");
    return 2;
}

try
{
    return (int)command.Invoke(null, [args[1..]])!;
}
catch (TargetInvocationException e) when (e.InnerException is not null)
{
    Console.Error.WriteLine(e.InnerException);
    return 1;
}
