using LangSwarm.Memory.Cli;

return await LsmemApp.RunAsync(args);
