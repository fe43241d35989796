using System.CommandLine;

namespace LangSwarm.Memory.Cli;

/// <summary>Runs a command's action and turns what it throws into a message on standard error and an exit code.</summary>
internal static class CommandRunner
{
    /// <summary>Sets <paramref name="action"/> as the command's action.</summary>
    public static void SetAction(Command command, Func<ParseResult, CliIO, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (pr, ct) =>
        {
            var io = CliIO.From(pr);
            try
            {
                return await action(pr, io, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is CliUsageException or MemoryConfigurationException or SessionNotFoundException or ArgumentException)
            {
                await io.Err.WriteLineAsync($"lsmem: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await io.Err.WriteLineAsync("lsmem: interrupted").ConfigureAwait(false);
                return ExitCodes.Problems;
            }
            catch (Exception ex) when (ex is MemoryException or IOException or UnauthorizedAccessException)
            {
                await io.Err.WriteLineAsync($"lsmem: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Problems;
            }
        });
    }
}
