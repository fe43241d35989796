using System.CommandLine;
using LangSwarm.MemoryEngine;

namespace LangSwarm.Memory.Cli;

/// <summary>
/// <c>lsmem backup DEST</c> and <c>lsmem restore BACKUP</c>: an online, consistent copy of an engine store, taken
/// beside the agent that holds it (without its lock), verified; and a backup copied back into a new store.
/// </summary>
internal static class BackupCommand
{
    public static Command Backup()
    {
        var destination = new Argument<string>("DEST") { Description = "A new or empty directory for the backup (itself a store)." };
        var noVerify = new Option<bool>("--no-verify") { Description = "Skip opening and checking the backup afterwards." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress display; one summary line at the end." };
        var c = new Command("backup", "Copy an engine store into DEST while it may be open and written by another process; the backup holds every add acknowledged before the command started, and is verified (exit 1 when it does not verify).");
        c.Arguments.Add(destination);
        StoreOptions.AddTo(c);
        c.Options.Add(noVerify);
        c.Options.Add(quiet);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            var spec = StoreOptions.Spec(pr);
            var store = EnginePath(spec, "backup");
            if (!Directory.Exists(store))
            {
                throw new CliUsageException($"no engine store at '{store}'.");
            }
            var target = Path.GetFullPath(pr.GetValue(destination)!);
            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new CliUsageException($"'{target}' already holds files; a backup goes into a new or empty directory.");
            }
            // The copy is byte for byte (an encrypted store's backup stays sealed); the CLI verifies it itself, so that an
            // encrypted backup is opened with the key in LSMEM_KEY.
            var report = await ProgressView.RunAsync(io, pr.GetValue(quiet), "backup", "bytes", null, ticker =>
                EngineBackend.BackupStoreAsync(store, target, verify: false, new TickerProgress(ticker), ct));
            if (!pr.GetValue(noVerify))
            {
                try
                {
                    report = report with { Verify = await StoreAccess.VerifyCopyAsync(spec, target, ct) };
                }
                catch (EncryptionKeyException ex)
                {
                    await io.Out.WriteLineAsync($"backup of {store} in {report.Destination}: {report.Files} files, {report.Bytes / 1e6:N1} MB (still encrypted); not verified: it needs its key");
                    await io.Err.WriteLineAsync(CommandRunner.KeyMessage(ex));
                    return ExitCodes.Usage;
                }
            }
            var verified = report.Verify is { } v
                ? v.Ok ? $"; verified: {v.Segments} segments, {v.Records:N0} records" : $"; NOT OK: {string.Join("; ", v.Problems)}"
                : "; not verified";
            await io.Out.WriteLineAsync($"backup of {store} in {report.Destination}: {report.Files} files, {report.Bytes / 1e6:N1} MB in {report.Elapsed.TotalSeconds:F1} s ({report.Attempts} attempt{(report.Attempts == 1 ? "" : "s")}); holds every add acknowledged before {report.StartedAt:HH:mm:ss} UTC{verified}");
            return report.Verify is { Ok: false } ? ExitCodes.Problems : ExitCodes.Ok;
        });
        return c;
    }

    public static Command Restore()
    {
        var backup = new Argument<string>("BACKUP") { Description = "A backup directory written by lsmem backup (or any engine store)." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress display; one summary line at the end." };
        var c = new Command("restore", "Copy a backup into a new engine store (--store: a missing or empty directory; an existing store is never overwritten), then open and verify it; exit 1 when it does not verify.");
        c.Arguments.Add(backup);
        StoreOptions.AddTo(c);
        c.Options.Add(quiet);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            var source = Path.GetFullPath(pr.GetValue(backup)!);
            if (!Directory.Exists(source))
            {
                throw new CliUsageException($"no backup at '{source}'.");
            }
            var spec = StoreOptions.Spec(pr);
            var store = EnginePath(spec, "restore");
            if (Directory.Exists(store) && Directory.EnumerateFileSystemEntries(store).Any())
            {
                throw new CliUsageException($"'{store}' already holds files; restore into a new or empty directory (move the old store aside first).");
            }
            VerifyReport report;
            try
            {
                report = await ProgressView.RunAsync(io, pr.GetValue(quiet), "restore", "bytes", null, ticker =>
                    EngineBackend.RestoreAsync(source, store, new TickerProgress(ticker), ct));
            }
            catch (EncryptionKeyException)
            {
                // The restore copied the backup (byte for byte: still encrypted), then its check opened the copy without a
                // key. Check it again with the key in LSMEM_KEY.
                try
                {
                    report = await StoreAccess.VerifyCopyAsync(spec, store, ct);
                }
                catch (EncryptionKeyException ex)
                {
                    await io.Out.WriteLineAsync($"restored {source} into {store} (still encrypted); not verified: it needs its key");
                    await io.Err.WriteLineAsync(CommandRunner.KeyMessage(ex));
                    return ExitCodes.Usage;
                }
            }
            await io.Out.WriteLineAsync(report.Ok
                ? $"restored {source} into {store}; verified: {report.Segments} segments, {report.Records:N0} records"
                : $"restored {source} into {store}; NOT OK: {string.Join("; ", report.Problems)}");
            return report.Ok ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return c;
    }

    private static string EnginePath(StoreSpec spec, string command) =>
        spec.Backend == EngineBackend.BackendName && spec.Location is { } path
            ? Path.GetFullPath(path)
            : throw new CliUsageException($"{command} works on engine stores only (this is {spec.Backend}).");

    /// <summary>Moves the progress display as bytes are copied (synchronously: the copy runs on one thread).</summary>
    private sealed class TickerProgress(ProgressTicker ticker) : IProgress<CopyProgress>
    {
        public void Report(CopyProgress value)
        {
            ticker.SetTotal(value.TotalBytes);
            if (value.Bytes > ticker.Done)
            {
                ticker.Advance(value.Bytes - ticker.Done); // an attempt started again holds until it passes
            }
        }
    }
}
