using System.CommandLine;
using LangSwarm.Memory.Cli;

var root = new RootCommand("lsmem — LangSwarm conversation memory: demo, inspect and maintain a store.");
foreach (var command in CliCommands.All())
{
    root.Subcommands.Add(command);
}
return await root.Parse(args).InvokeAsync();
