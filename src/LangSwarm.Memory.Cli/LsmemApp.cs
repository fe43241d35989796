using System.CommandLine;

namespace LangSwarm.Memory.Cli;

/// <summary>The lsmem command line: its commands, and one run of it (the process entry and the tests use the same).</summary>
internal static class LsmemApp
{
    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("lsmem — LangSwarm conversation memory: look inside a store, export and import, migrate, verify and maintain it. Exit codes: 0 ok, 1 problems found, 2 bad usage.");
        foreach (var command in CliCommands.All())
        {
            root.Subcommands.Add(command);
        }
        return root;
    }

    /// <summary>Parses and runs a command line; a line that does not parse prints why and exits 2.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Standard output (null: the console's).</param>
    /// <param name="error">Standard error (null: the console's).</param>
    /// <param name="cancellationToken">Stops the command.</param>
    /// <param name="environment">The environment variables the run reads (<c>LSMEM_KEY</c>, <c>LSMEM_PREVIOUS_KEYS</c>); null: the process's.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default, Func<string, string?>? environment = null)
    {
        CliEnvironment.Use(environment);
        var parse = Build().Parse(args);
        var config = new InvocationConfiguration { Output = output ?? Console.Out, Error = error ?? Console.Error };
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                await config.Error.WriteLineAsync($"lsmem: {e.Message}").ConfigureAwait(false);
            }
            await config.Error.WriteLineAsync("Run 'lsmem --help' or 'lsmem COMMAND --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
    }
}
