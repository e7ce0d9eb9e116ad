using System.CommandLine;
using IpcCore.Cli;
using MyIpcPub;

var tool = new CliTool("myipcpub");
var common = new CommonOptions();
var channel = new Option<string>("--channel")
{
    Description = "The channel to publish to (dot-separated tokens of [A-Za-z0-9_-], e.g. weather, sensors.temp).",
    HelpName = "NAME",
    Required = true,
};
var message = new Option<string?>("--message")
{
    Description = "Publish TEXT (UTF-8) as one message and exit ('' publishes an empty message).",
    HelpName = "TEXT",
};
var file = new Option<string?>("--file")
{
    Description = "Publish the file's bytes as one binary message and exit.",
    HelpName = "PATH",
};
var byFd = new Option<bool>("--by-fd")
{
    Description = "With --file: put the file's bytes in a sealed memfd (F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW) and publish only its descriptor, with the file's name as the payload; no size limit, no copy through the hub. Needs the socket or pipe backend; subscribers on other backends do not get it (the Ack counts them).",
};
var noAck = new Option<bool>("--no-ack")
{
    Description = "Fire and forget: do not wait for the hub's delivery count (prints nothing per message).",
};
var priority = new Option<int>("--priority")
{
    Description = "The messages' priority, 0 (default) to 32767. Over the mqueue backend it is the mq priority, so a message may overtake lower-priority ones still queued (to the hub, and to mqueue subscribers); other backends keep the order.",
    HelpName = "N",
};
priority.Validators.Add(r =>
{
    int value = r.GetValueOrDefault<int>();
    if (value is < 0 or > 32767)
    {
        r.AddError($"--priority must be between 0 and 32767 (got {value})");
    }
});

var root = new RootCommand(
    "Publishes messages to a channel of the IpcCore hub: --message TEXT, --file PATH, or else each line of stdin " +
    "(without its newline) as one message. Prints 'Published (N subscribers)' for each.\n\n" + ExitCodes.HelpText)
{
    channel,
    message,
    file,
    byFd,
    noAck,
    priority,
};
common.AddTo(root);

return CliRunner.Run(tool, root, args, (parseResult, cancellationToken) =>
{
    var settings = new PublisherSettings(
        parseResult.GetValue(channel)!,
        parseResult.GetValue(message),
        parseResult.GetValue(file),
        parseResult.GetValue(noAck),
        (ushort)parseResult.GetValue(priority),
        parseResult.GetValue(byFd));
    return new Publisher(tool, settings, common.ToClientOptions(parseResult, reconnect: true)).RunAsync(cancellationToken);
});
