using IpcCore.Cli;
using MyIpcFd;

var tool = new CliTool("myipcfd");
var options = new FdOptions();
return CliRunner.Run(tool, options.CreateRoot(), args, (parseResult, cancellationToken) =>
    new Demos(tool, options).RunAsync(parseResult, cancellationToken));
