using System.Diagnostics;
using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// C1: space after deleting half the sessions and vacuuming (vs a store that only ever held the other half),
/// and the p99 of durable adds while a vacuum runs (vs without). Engine <c>VacuumAsync</c> against SQLite
/// <c>VacuumDatabaseAsync</c>; Redis frees memory on delete and has no vacuum.
/// </summary>
public static class CompactionWorkload
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var (sessions, each) = o.Quick ? (40, 25) : (400, 100);
        var space = new Row("C1", $"disk after deleting half of {sessions} sessions × {each} mixed messages and vacuuming ÷ disk of a store that only held the other half", "×", false)
        {
            Target = Targets.AtMost(1.10, "×", "engine within 10% of the half-only store"),
        };
        var latency = new Row("C1", "p99 of durable adds to live sessions while a vacuum rewrites others ÷ p99 without (engine Strict · sqlite FULL)", "×", false)
        {
            Target = Targets.AtMost(2.0, "×", "engine p99 during compaction ≤ 2× without"),
        };
        ctx.Rows.AddRange([space, latency]);
        foreach (var spec in new[] { Backends.Engine(DurabilityMode.Strict), Backends.Sqlite(SqliteDurability.Full) })
        {
            BenchContext.Log($"C1 {spec.Column} ...");
            try
            {
                space.Cells[spec.Column] = await SpaceRatioAsync(ctx, spec, sessions, each).ConfigureAwait(false);
                var (ratio, note) = await LatencyRatioAsync(ctx, spec, o.Quick).ConfigureAwait(false);
                latency.Cells[spec.Column] = ratio;
                latency.Notes.Add($"{spec.Column}: {note}");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                BenchContext.Log($"C1 {spec.Column} failed: {ex}");
                space.Cells.TryAdd(spec.Column, Measure.NotApplicable($"failed: {ex.Message}"));
                latency.Cells.TryAdd(spec.Column, Measure.NotApplicable($"failed: {ex.Message}"));
            }
        }
        space.Cells["redis"] = Measure.NotApplicable("n/a (in memory; a delete frees it at once)");
        latency.Cells["redis"] = Measure.NotApplicable("n/a (no vacuum)");
    }

    private static async Task<Measure> SpaceRatioAsync(BenchContext ctx, BackendSpec spec, int sessions, int each)
    {
        async Task<long> Fill(string dir, bool all)
        {
            var b = await spec.OpenAsync(dir).ConfigureAwait(false);
            for (var k = 0; k < sessions; k++)
            {
                if (!all && k % 2 == 1)
                {
                    continue;
                }
                var s = await b.CreateSessionAsync(Backends.Session($"c1-{k}", "u")).ConfigureAwait(false);
                await s.AddMessagesAsync(ctx.Data.MixedBatch((long)k * each, each)).ConfigureAwait(false);
            }
            if (all)
            {
                for (var k = 1; k < sessions; k += 2)
                {
                    await b.DeleteSessionAsync($"c1-{k}").ConfigureAwait(false);
                }
                await Vacuum(b).ConfigureAwait(false);
            }
            await b.DisposeAsync().ConfigureAwait(false);
            return Backends.DirectoryBytes(dir);
        }
        var full = Path.Combine(ctx.WorkDir, $"c1-full-{spec.Column}");
        var half = Path.Combine(ctx.WorkDir, $"c1-half-{spec.Column}");
        try
        {
            var after = await Fill(full, all: true).ConfigureAwait(false);
            var only = await Fill(half, all: false).ConfigureAwait(false);
            var ratio = (double)after / only;
            return new Measure(ratio, ratio, ratio, Note: string.Create(Inv, $"{after / 1024.0:N0} KiB vs {only / 1024.0:N0} KiB"));
        }
        finally
        {
            BenchContext.Remove(full);
            BenchContext.Remove(half);
        }
    }

    private static async Task<(Measure Ratio, string Note)> LatencyRatioAsync(BenchContext ctx, BackendSpec spec, bool quick)
    {
        var dir = Path.Combine(ctx.WorkDir, $"c1-lat-{spec.Column}");
        var b = await spec.OpenAsync(dir).ConfigureAwait(false);
        try
        {
            // Sessions full of dead records (a live window of 20 over 200 messages each) for the vacuum to rewrite.
            var deadSessions = quick ? 8 : 64;
            for (var k = 0; k < deadSessions; k++)
            {
                var meta = Backends.Session($"dead-{k}", "u");
                meta.MaxMessages = 20;
                var s = await b.CreateSessionAsync(meta).ConfigureAwait(false);
                for (var batch = 0; batch < 10; batch++)
                {
                    await s.AddMessagesAsync(ctx.Data.MixedBatch((k * 1000L) + (batch * 20), 20)).ConfigureAwait(false);
                }
            }
            var live = await b.CreateSessionAsync(Backends.Session("live", "u")).ConfigureAwait(false);
            var n = quick ? 200 : 1_500;
            var baseline = await AddP99(live, ctx, n, 0).ConfigureAwait(false);

            var vacuum = Task.Run(() => Vacuum(b));
            var during = new List<double>();
            long k2 = 1_000_000;
            var t = Stopwatch.StartNew();
            while (!vacuum.IsCompleted || during.Count < 50)
            {
                var t0 = Stopwatch.GetTimestamp();
                await live.AddMessageAsync(ctx.Data.Mixed(k2++)).ConfigureAwait(false);
                during.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
            var reclaimed = await vacuum.ConfigureAwait(false);
            var p99 = Stats.Percentile(during, 0.99);
            var ratio = p99 / baseline;
            return (new Measure(ratio, ratio, ratio, P99: p99), string.Create(Inv, $"p99 {baseline:0} µs without, {p99:0} µs over {during.Count} adds during a {t.Elapsed.TotalMilliseconds:0} ms vacuum that reclaimed {reclaimed / 1024.0:N0} KiB"));
        }
        finally
        {
            await b.DisposeAsync().ConfigureAwait(false);
            BenchContext.Remove(dir);
        }
    }

    private static async Task<double> AddP99(IMemorySession s, BenchContext ctx, int n, long first)
    {
        var lat = new List<double>(n);
        for (var i = 0; i < n; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await s.AddMessageAsync(ctx.Data.Mixed(first + i)).ConfigureAwait(false);
            lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }
        return Stats.Percentile(lat, 0.99);
    }

    private static async Task<long> Vacuum(IMemoryBackend b) => b switch
    {
        EngineBackend e => (await e.VacuumAsync(0.25).ConfigureAwait(false)).BytesReclaimed,
        SqliteBackend s => await s.VacuumDatabaseAsync().ConfigureAwait(false),
        _ => 0,
    };
}
