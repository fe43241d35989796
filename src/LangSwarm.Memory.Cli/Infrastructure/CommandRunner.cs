using System.CommandLine;
using LangSwarm.MemoryEngine;

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
            catch (EncryptionKeyException ex)
            {
                await io.Err.WriteLineAsync(KeyMessage(ex)).ConfigureAwait(false);
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

    /// <summary>
    /// The one line for a store that needs a key this run was not given: the key's id (never a key), and what to set.
    /// </summary>
    internal static string KeyMessage(EncryptionKeyException ex)
    {
        var needs = ex.KeyId == 0 ? "a key" : $"key {ex.KeyId:x8}";
        var given = CliEnvironment.HasKey ? $"the key in {KeyProvider.DefaultVariable} (or {KeyProvider.DefaultPreviousVariable}) is not it" : $"{KeyProvider.DefaultVariable} is not set";
        return $"lsmem: the store is encrypted with {needs}, and {given}: set {KeyProvider.DefaultVariable} to the store's key (after a key rotation, the previous key in {KeyProvider.DefaultPreviousVariable}). The store was not opened.";
    }
}
