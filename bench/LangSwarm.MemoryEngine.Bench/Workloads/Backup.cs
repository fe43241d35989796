using System.Diagnostics;
using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Bench.Macro;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// B1: an online backup of the filled S1 engine store while one writer keeps adding (Strict): how long the backup
/// takes, and the writer's add p99 during the backup ÷ its p99 in the same time just before. Runs on a copy of
/// the S1 store, so that O1 still opens the store S1 closed.
/// </summary>
public static class BackupWorkload
{
    /// <summary>Runs B1 on the engine store S1 filled (none: the row says so).</summary>
    public static async Task RunAsync(BenchContext ctx, IReadOnlyList<FilledStore> stores)
    {
        var row = new Row("B1", "online backup (EngineBackend.BackupAsync) of the filled S1 store while one writer adds mixed messages (Strict): backup time; writer's add p99 during ÷ just before", "ms", false);
        ctx.Rows.Add(row);
        row.Cells["sqlite"] = Measure.NotApplicable("not measured");
        row.Cells["redis"] = Measure.NotApplicable("n/a (server-side BGSAVE)");
        if (stores.FirstOrDefault(s => s.Spec.Column == "engine") is not { } filled)
        {
            row.Cells["engine"] = Measure.NotApplicable("no S1 engine store (B1 backs up what S1 fills: --only S1,B1)");
            return;
        }
        BenchContext.Log("B1 engine ...");
        var dir = ctx.NewDir();
        try
        {
            CopyDirectory(filled.CleanDir, dir);
            // S1 opened the engine in the "store" folder of its directory (Backends.Engine).
            await using var backend = new EngineBackend(new EngineOptions { Path = Path.Combine(dir, "store"), Durability = DurabilityMode.Strict });
            await backend.ConnectAsync().ConfigureAwait(false);
            var session = await backend.CreateSessionAsync(Backends.Session("b1-writer")).ConfigureAwait(false);
            var samples = new List<Sample>();
            var ratios = new List<double>();
            long index = 0;
            long bytes = 0;
            for (var r = 0; r < ctx.Options.Repetitions; r++)
            {
                var dest = ctx.NewDir();
                var backupTime = TimeSpan.Zero;
                var (during, before) = (new List<double>(), new List<double>());
                // Just before: the writer alone for as long as the backup will take (the first repetition's
                // length is not known yet: one second).
                var alone = r == 0 ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(samples[^1].Value);
                index = await WriteForAsync(ctx, session, before, index, () => Task.Delay(alone)).ConfigureAwait(false);
                index = await WriteForAsync(ctx, session, during, index, async () =>
                {
                    var sw = Stopwatch.StartNew();
                    var report = await backend.BackupAsync(dest, verify: false).ConfigureAwait(false);
                    backupTime = sw.Elapsed;
                    bytes = report.Bytes;
                }).ConfigureAwait(false);
                var p99During = Stats.Percentile(during, 0.99);
                var p99Before = Stats.Percentile(before, 0.99);
                ratios.Add(p99During / p99Before);
                samples.Add(new Sample(backupTime.TotalMilliseconds, p99During));
                if (r == ctx.Options.Repetitions - 1)
                {
                    var verify = await VerifyAsync(dest).ConfigureAwait(false);
                    row.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"engine: the last backup ({bytes / 1e6:0.0} MB, {filled.Messages:N0} messages + the writer's) opened and verified {(verify.Ok ? "ok" : "NOT OK")} in {verify.Elapsed.TotalSeconds:0.0} s (not in the backup time)"));
                }
                BenchContext.Remove(dest);
            }
            ratios.Sort();
            row.Cells["engine"] = Stats.Fold(samples);
            row.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"engine: writer's add p99 during the backup ÷ just before, per repetition: median {ratios[ratios.Count / 2]:0.00}× [{ratios[0]:0.00}–{ratios[^1]:0.00}]; the p99 shown is during"));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            BenchContext.Log($"B1 failed: {ex}");
            row.Cells["engine"] = Measure.NotApplicable($"failed: {ex.Message}");
        }
        finally
        {
            BenchContext.Remove(dir);
        }
    }

    /// <summary>Adds mixed messages one at a time until <paramref name="until"/> completes; each add's latency in µs.</summary>
    private static async Task<long> WriteForAsync(BenchContext ctx, IMemorySession session, List<double> latencies, long index, Func<Task> until)
    {
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var t0 = Stopwatch.GetTimestamp();
                await session.AddMessageAsync(ctx.Data.Mixed(index++)).ConfigureAwait(false);
                latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
        });
        try
        {
            await until().ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await writer.ConfigureAwait(false);
        }
        return index;
    }

    private static async Task<(bool Ok, TimeSpan Elapsed)> VerifyAsync(string dir)
    {
        var sw = Stopwatch.StartNew();
        // The backup is a store of its own: opening it recovers it, then it is checked as lsmem verify does.
        await using var backup = new EngineBackend(dir);
        await backup.ConnectAsync().ConfigureAwait(false);
        var report = await backup.VerifyAsync().ConfigureAwait(false);
        return (report.Ok && backup.Recovery!.Damage.Count == 0, sw.Elapsed);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) == "LOCK")
            {
                continue;
            }
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
