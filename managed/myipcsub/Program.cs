using System.CommandLine;
using IpcCore.Cli;
using MyIpcSub;

var tool = new CliTool("myipcsub");
var common = new CommonOptions();
var channels = new Option<string[]>("--channel")
{
    Description = "A channel or pattern to subscribe to (repeatable): weather, weather.* (one token), sensors.> (one or more tokens).",
    HelpName = "PATTERN",
    Required = true,
    Arity = ArgumentArity.OneOrMore,
};
var count = new Option<int?>("--count")
{
    Description = "Exit (0) after N messages.",
    HelpName = "N",
};
var format = new Option<string>("--format")
{
    Description = "text: '[channel] payload' per line (control bytes and invalid UTF-8 escaped); json: one object per line; raw: the payload bytes only.",
    HelpName = "text|json|raw",
    DefaultValueFactory = _ => "text",
};
format.AcceptOnlyFromAmong("text", "json", "raw");
var save = new Option<string?>("--save")
{
    Description = "Save the content of messages that carry a sealed memfd (myipcpub --file PATH --by-fd) into DIR, named after the payload (the file's name), instead of printing it. Other messages print as usual.",
    HelpName = "DIR",
};
var noReconnect = new Option<bool>("--no-reconnect")
{
    Description = "Exit (1) when the connection to the hub is lost instead of reconnecting and subscribing again.",
};

var root = new RootCommand(
    "Subscribes to channels of the IpcCore hub and prints every message on stdout. Reconnects and subscribes " +
    "again when the hub restarts. SIGINT/SIGTERM: says goodbye and exits 0 (1 if a message's descriptors were lost or not trusted).\n\n" +
    "A message that carries a sealed memfd (myipcpub --by-fd; socket and pipe backends) is mapped read-only once its seals " +
    "(write, shrink, grow) are checked, and its content printed in place of the payload, or saved with --save DIR.\n\n" + ExitCodes.HelpText)
{
    channels,
    count,
    format,
    save,
    noReconnect,
};
common.AddTo(root);

return CliRunner.Run(tool, root, args, (parseResult, cancellationToken) =>
{
    var settings = new SubscriberSettings(
        parseResult.GetValue(channels) ?? [],
        parseResult.GetValue(count),
        MessageFormatter.Parse(parseResult.GetValue(format) ?? "text"),
        parseResult.GetValue(save));
    bool reconnect = !parseResult.GetValue(noReconnect);
    return new Subscriber(tool, settings, common.ToClientOptions(parseResult, reconnect)).RunAsync(cancellationToken);
});
