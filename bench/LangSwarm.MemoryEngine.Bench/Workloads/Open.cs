using System.Diagnostics;
using System.Globalization;
using LangSwarm.MemoryEngine.Bench.Macro;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>O1: open time of the filled store (cleanly closed), and recovery time of the snapshot taken while open.</summary>
public static class Open
{
    /// <summary>Runs O1 on the stores S1 left; deletes them after.</summary>
    public static async Task RunAsync(BenchContext ctx, IReadOnlyList<FilledStore> stores)
    {
        var n = stores.FirstOrDefault(s => s.Spec.Column == "engine")?.Messages ?? 0;
        var scale = n >= 1_000_000 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; at N = {n:N0}, not 1,000,000");
        var clean = new Row("O1", "open (ConnectAsync) of the filled S1 store, cleanly closed", "ms", false)
        {
            Target = Targets.AtMost(200, "ms", "engine ≤ 200 ms for 1,000,000 messages", scale),
        };
        var crash = new Row("O1", "recovery: open of a copy taken while the store was open (unclean stop)", "ms", false)
        {
            Target = Targets.AtMost(300, "ms", "engine ≤ 300 ms for 1,000,000 messages, reading segment files of only the sessions its logs name", scale),
        };
        ctx.Rows.AddRange([clean, crash]);
        foreach (var store in stores)
        {
            BenchContext.Log($"O1 {store.Spec.Column} ...");
            try
            {
                var samples = new List<Sample>();
                for (var r = 0; r < ctx.Options.Repetitions; r++)
                {
                    var notes = r == 0 && store.Spec.Column == "engine" ? clean : null;
                    samples.Add(new Sample(await TimeOpenAsync(store.Spec, store.CleanDir, notes).ConfigureAwait(false)));
                }
                clean.Cells[store.Spec.Column] = Stats.Fold(samples);
                clean.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{store.Spec.Column}: N = {store.Messages:N0}"));

                // Recovery repairs the copy in place, so only the first open is a recovery.
                var ms = await TimeOpenAsync(store.Spec, store.CrashDir, store.Spec.Column == "engine" ? crash : null).ConfigureAwait(false);
                crash.Cells[store.Spec.Column] = new Measure(ms, ms, ms, Note: "one run");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                BenchContext.Log($"O1 {store.Spec.Column} failed: {ex}");
                clean.Cells.TryAdd(store.Spec.Column, Measure.NotApplicable($"failed: {ex.Message}"));
                crash.Cells.TryAdd(store.Spec.Column, Measure.NotApplicable($"failed: {ex.Message}"));
            }
            finally
            {
                BenchContext.Remove(store.CleanDir);
                BenchContext.Remove(store.CrashDir);
            }
        }
        foreach (var r in new[] { clean, crash })
        {
            r.Cells.TryAdd("redis", Measure.NotApplicable("n/a (server process; no embedded open)"));
            r.Cells.TryAdd("sqlite", Measure.NotApplicable("not measured"));
            r.Cells.TryAdd("engine", Measure.NotApplicable("not measured"));
        }
    }

    /// <summary>
    /// Milliseconds of one open (ConnectAsync) of the store in <paramref name="dir"/>, closed again after; the
    /// engine's recovery details go to <paramref name="recoveryNotes"/> when given.
    /// </summary>
    public static async Task<double> TimeOpenAsync(BackendSpec spec, string dir, Row? recoveryNotes = null)
    {
        var b = spec.Create(dir);
        var sw = Stopwatch.StartNew();
        await b.ConnectAsync().ConfigureAwait(false);
        sw.Stop();
        if (recoveryNotes is not null && b is EngineBackend e && e.Recovery is { } rec)
        {
            recoveryNotes.Notes.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"engine recovery: checkpoint loaded {rec.CheckpointLoaded}, {rec.Messages:N0} messages, {rec.LogRecordsReplayed:N0} log + {rec.SegmentRecordsReplayed:N0} segment records replayed, {rec.TornBytesCut:N0} torn bytes cut, {rec.SegmentFilesRead:N0} segment files read{(rec.SegmentsListed ? " (every segment listed)" : " (no listing)")}, {rec.SessionsDeferred:N0} sessions' records placed and written after the open, clean {rec.Clean}; recovery {rec.Elapsed.TotalMilliseconds:0} ms (index file {rec.CheckpointLoadTime.TotalMilliseconds:0}, segments {rec.SegmentScanTime.TotalMilliseconds:0}, logs {rec.LogReplayTime.TotalMilliseconds:0}), the rest of the open {sw.Elapsed.TotalMilliseconds - rec.Elapsed.TotalMilliseconds:0} ms"));
        }
        await b.DisposeAsync().ConfigureAwait(false);
        return sw.Elapsed.TotalMilliseconds;
    }
}
