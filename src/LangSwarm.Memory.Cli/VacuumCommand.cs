using System.CommandLine;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem vacuum</c>: compacts an engine store and reports the bytes reclaimed.</summary>
internal static class VacuumCommand
{
    public static Command Create()
    {
        var fraction = new Option<double>("--min-dead") { Description = "Rewrite sessions whose dead bytes reach this fraction (0..1).", DefaultValueFactory = _ => 0.25 };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress display; one summary line at the end." };
        var packIdle = new Option<int?>("--pack-idle-minutes") { Description = "Pack small sessions that took no write for this many minutes into shared pack files (default: the store's setting, 10)." };
        var c = new Command("vacuum", "Rewrite sessions with dead records (and archived ones into cold form), pack small idle sessions into shared files, then delete the old files.");
        StoreOptions.AddTo(c);
        c.Options.Add(fraction);
        c.Options.Add(quiet);
        c.Options.Add(packIdle);
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
            await using var store = await StoreAccess.OpenAsync(spec, StoreAccessMode.ReadWrite, ct);
            var backend = store.Engine("vacuum");
            // The engine reports no progress of its own while it vacuums: the display shows time elapsed.
            var report = await ProgressView.RunAsync(io, pr.GetValue(quiet), "vacuum", "sessions", null, _ => backend.VacuumAsync(minDead, ct));
            await io.Out.WriteLineAsync($"rewrote {report.SessionsRewritten} session(s), packed {report.SessionsPacked}, skipped {report.SessionsSkipped}; {report.BytesBefore:N0} -> {report.BytesAfter:N0} bytes ({report.BytesReclaimed:N0} reclaimed{(report.IndexBytesReclaimed > 0 ? $", {report.IndexBytesReclaimed:N0} of them by repacking the index file" : string.Empty)}) in {report.Elapsed.TotalMilliseconds:F0} ms");
            return ExitCodes.Ok;
        });
        return c;
    }
}
