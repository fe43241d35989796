using System.CommandLine;
using LangSwarm.MemoryEngine;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem vacuum</c>: compacts an engine store and reports the bytes reclaimed.</summary>
internal static class VacuumCommand
{
    public static Command Create()
    {
        var fraction = new Option<double>("--min-dead") { Description = "Rewrite sessions whose dead bytes reach this fraction (0..1).", DefaultValueFactory = _ => 0.25 };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress display; one summary line at the end." };
        var packIdle = new Option<int?>("--pack-idle-minutes") { Description = "Pack small sessions that took no write for this many minutes into shared pack files (default: the store's setting, 10)." };
        var rekey = new Option<bool>("--rekey") { Description = "Rewrite every session and the index file under the key in LSMEM_KEY (after a key rotation, with the old key in LSMEM_PREVIOUS_KEYS; or to seal a store written without a key); then only LSMEM_KEY is needed." };
        var c = new Command("vacuum", "Rewrite sessions with dead records (and archived ones into cold form), pack small idle sessions into shared files, then delete the old files; with --rekey, rewrite everything under the current key.");
        StoreOptions.AddTo(c);
        c.Options.Add(fraction);
        c.Options.Add(quiet);
        c.Options.Add(packIdle);
        c.Options.Add(rekey);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            var minDead = pr.GetValue(fraction);
            if (minDead is < 0 or > 1)
            {
                throw new CliUsageException("--min-dead must be between 0 and 1.");
            }
            var spec = StoreOptions.Spec(pr);
            if (pr.GetValue(packIdle) is { } minutes)
            {
                if (minutes < 0)
                {
                    throw new CliUsageException("--pack-idle-minutes must not be negative.");
                }
                spec = spec with { Settings = spec.Settings.With("pack_idle_minutes", minutes) };
            }
            if (pr.GetValue(rekey))
            {
                if (pr.GetResult(fraction) is { Implicit: false })
                {
                    throw new CliUsageException("--rekey rewrites every session; it takes no --min-dead.");
                }
                if (spec.Backend == EngineBackend.BackendName && !CliEnvironment.HasKey && !spec.Settings.Keys.Any(k => k.StartsWith("encryption", StringComparison.OrdinalIgnoreCase)))
                {
                    throw new CliUsageException($"--rekey rewrites the store under the key in {KeyProvider.DefaultVariable}, which is not set (after a key rotation: {KeyProvider.DefaultVariable}=NEW, {KeyProvider.DefaultPreviousVariable}=OLD).");
                }
            }
            await using var store = await StoreAccess.OpenAsync(spec, StoreAccessMode.ReadWrite, ct);
            var backend = store.Engine("vacuum");
            if (pr.GetValue(rekey))
            {
                var key = backend.Options.Encryption?.CurrentKey ?? throw new CliUsageException($"--rekey rewrites the store under the key in {KeyProvider.DefaultVariable}, which is not set.");
                var rekeyed = await ProgressView.RunAsync(io, pr.GetValue(quiet), "rekey", "sessions", null, _ => backend.RekeyAsync(ct));
                // Packing small idle sessions into shared pack files rewrites them too; a session the pass skipped may still
                // be under a previous key (run it again).
                var done = rekeyed.SessionsRewritten + rekeyed.SessionsPacked;
                var skipped = rekeyed.SessionsSkipped > 0 ? $"; skipped {rekeyed.SessionsSkipped}, which may still need a previous key: run vacuum --rekey again" : "; previous keys are no longer needed";
                await io.Out.WriteLineAsync($"rekeyed under key {key.Id:x8}: rewrote {done} session(s) ({rekeyed.SessionsPacked} of them into pack files) and the index file; {rekeyed.BytesBefore:N0} -> {rekeyed.BytesAfter:N0} bytes in {rekeyed.Elapsed.TotalMilliseconds:F0} ms{skipped}");
                return rekeyed.SessionsSkipped > 0 ? ExitCodes.Problems : ExitCodes.Ok;
            }
            // The engine reports no progress of its own while it vacuums: the display shows time elapsed.
            var report = await ProgressView.RunAsync(io, pr.GetValue(quiet), "vacuum", "sessions", null, _ => backend.VacuumAsync(minDead, ct));
            await io.Out.WriteLineAsync($"rewrote {report.SessionsRewritten} session(s), packed {report.SessionsPacked}, skipped {report.SessionsSkipped}; {report.BytesBefore:N0} -> {report.BytesAfter:N0} bytes ({report.BytesReclaimed:N0} reclaimed{(report.IndexBytesReclaimed > 0 ? $", {report.IndexBytesReclaimed:N0} of them by repacking the index file" : string.Empty)}) in {report.Elapsed.TotalMilliseconds:F0} ms");
            return ExitCodes.Ok;
        });
        return c;
    }
}
