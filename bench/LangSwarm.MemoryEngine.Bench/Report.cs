using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using LangSwarm.MemoryEngine.Bench.Macro;

namespace LangSwarm.MemoryEngine.Bench;

/// <summary>Writes the results table (markdown) and prints it.</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The markdown of a run.</summary>
    public static string Markdown(BenchContext ctx, TimeSpan elapsed, string chartFile, string? chartError)
    {
        var o = ctx.Options;
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"# LangSwarm.MemoryEngine benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(o.Quick ? " (--quick: small sizes, not a performance result)" : string.Empty)}");
        sb.AppendLine();
        sb.AppendLine(Inv, $"Command: `{o.CommandLine.Trim()}`  ");
        sb.AppendLine(Inv, $"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture}), {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.ProcessArchitecture}  ");
        sb.AppendLine(Inv, $"Bench directory: `{ctx.WorkDir}`; run took {elapsed.TotalSeconds:0} s; data seed {DataGenerator.Seed}, mean mixed payload {ctx.Data.MeanMixedBytes:0} B.  ");
        sb.AppendLine(Inv, $"Redis: harness-owned redis-server on loopback; durable rows `{RedisServer.Arguments(RedisPersistence.AppendFsyncAlways)}`, relaxed rows `{RedisServer.Arguments(RedisPersistence.None)}`.  ");
        sb.AppendLine(Inv, $"Each figure is the median of {o.Repetitions} repetitions with [min–max]; latencies are per call, median and p99. Throughput rows also give the p99 latency of one add call. \"×\" columns: how many times better the engine is (>1 = engine better, for sizes and latencies too).");
        sb.AppendLine();
        sb.AppendLine("| Id | Workload | engine | sqlite | redis | engine/SQLite | engine/Redis | target |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in ctx.Rows)
        {
            var target = r.Target is null ? string.Empty
                : r.Target.Judge(r) is { } j ? $"{r.Target.Text}: **{(j.Met ? "met" : "missed")}** ({j.Detail})"
                : $"{r.Target.Text}: not measured";
            sb.AppendLine(Inv, $"| {r.Id} | {r.Title} | {Cell(r, "engine")} | {Cell(r, "sqlite")} | {Cell(r, "redis")} | {Ratio(r.Advantage("sqlite"))} | {Ratio(r.Advantage("redis"))} | {target} |");
        }
        sb.AppendLine();
        if (ctx.Limits is { } l)
        {
            sb.AppendLine("## Physical limits (same run, same disk, same data)");
            sb.AppendLine();
            sb.AppendLine(Inv, $"- fsync (4 KB write + fsync): median {l.FsyncMedianMicros:0} µs, p99 {l.FsyncP99Micros:0} µs → at most {l.FsyncsPerSecond:N0} fsyncs/s for one writer");
            sb.AppendLine(Inv, $"- the engine's file sync (4 KB append + fdatasync on Linux, through its own file class): median {l.DataSyncMedianMicros:0} µs, p99 {l.DataSyncP99Micros:0} µs → at most {l.DataSyncsPerSecond:N0} syncs/s for one writer");
            sb.AppendLine(Inv, $"- the same over bytes the file already holds (4 KB written over synced zeros + fdatasync, as in the preallocated Strict log): median {l.OverwriteSyncMedianMicros:0} µs, p99 {l.OverwriteSyncP99Micros:0} µs → at most {l.OverwriteSyncsPerSecond:N0} syncs/s for one writer");
            sb.AppendLine(Inv, $"- sequential write (1 MB writes, one fsync): {l.SequentialWriteMBps:N0} MB/s");
            sb.AppendLine(Inv, $"- LZ4 fast per message on the mixed data: compress {l.Lz4CompressMBps:N0} MB/s, decompress {l.Lz4DecompressMBps:N0} MB/s, stored/raw {l.Lz4Ratio:0.00} (on W3's 1-KB texts it compresses at {l.Lz4FixedCompressMBps:N0} MB/s)");
            foreach (var line in Fractions(ctx, l))
            {
                sb.AppendLine(line);
            }
            sb.AppendLine();
        }
        var summaryTargets = SummaryTargets(ctx).ToList();
        if (summaryTargets.Count > 0)
        {
            sb.AppendLine("## Summaries off the write path (W4)");
            sb.AppendLine();
            foreach (var line in summaryTargets)
            {
                sb.AppendLine(line);
            }
            sb.AppendLine();
        }
        var notes = ctx.Rows.Where(r => r.Notes.Count > 0).ToList();
        if (notes.Count > 0)
        {
            sb.AppendLine("## Notes");
            sb.AppendLine();
            foreach (var r in notes)
            {
                sb.AppendLine(Inv, $"- {r.Id} ({r.Title}): {string.Join("; ", r.Notes)}");
            }
            foreach (var r in ctx.Rows)
            {
                foreach (var (col, m) in r.Cells.Where(c => c.Value.Note is { Length: > 0 } n && n.StartsWith("failed", StringComparison.Ordinal)))
                {
                    sb.AppendLine(Inv, $"- {r.Id} {col}: {m.Note}");
                }
            }
            sb.AppendLine();
        }
        sb.AppendLine(chartError is null ? $"![chart]({chartFile})" : $"Chart not written: {chartError}");
        return sb.ToString();
    }

    private static IEnumerable<string> Fractions(BenchContext ctx, PhysicalLimits l)
    {
        var w1 = ctx.Rows.FirstOrDefault(r => r.Id == "W1");
        if (w1 is not null && w1.Cells.TryGetValue("engine", out var e1) && e1.HasValue)
        {
            yield return string.Create(Inv, $"- W1 engine Strict: {e1.Median:N0} msg/s = {e1.Median / l.DataSyncsPerSecond * 100:0}% of one engine file sync per message, {e1.Median / l.OverwriteSyncsPerSecond * 100:0}% of one over preallocated bytes ({e1.Median / l.FsyncsPerSecond * 100:0}% of one fsync)");
        }
        foreach (var w3 in ctx.Rows.Where(r => r.Id == "W3"))
        {
            if (w3.Cells.TryGetValue("engine", out var e) && e.MegabytesPerSecond is { } mbps)
            {
                // The ratio is taken per repetition against the LZ4 line measured just before it (the machine's
                // speed drifts within a run too); the line measured at the start of the run is shown beside it.
                var fraction = e.OfLz4?.Median ?? mbps / l.Lz4CompressMBps;
                var beside = e.OfLz4 is { } r ? string.Create(Inv, $" measured beside each repetition [{r.Min * 100:0}–{r.Max * 100:0}%], {mbps / l.Lz4CompressMBps * 100:0}% of the start-of-run line") : string.Empty;
                var judged = w3.Title.Contains("single", StringComparison.Ordinal) && w3.Title.Contains("engine None", StringComparison.Ordinal) && !Backends.IsEncrypted(w3)
                    ? string.Create(Inv, $" (target ≥ 70%: **{(fraction >= 0.7 ? "met" : "missed")}**)")
                    : string.Empty;
                yield return string.Create(Inv, $"- {w3.Title[..Math.Min(60, w3.Title.Length)]}…: engine {mbps:0.0} MB/s = {mbps / l.SequentialWriteMBps * 100:0}% of sequential write, {fraction * 100:0}% of LZ4 compress speed{beside}{judged}");
            }
        }
    }

    /// <summary>W4's target: the add p99 with background summaries at most twice the p99 without, per backend.</summary>
    private static IEnumerable<string> SummaryTargets(BenchContext ctx)
    {
        var w4 = ctx.Rows.Where(r => r.Id == "W4").ToList();
        if (w4.Count != 2)
        {
            yield break;
        }
        foreach (var column in new[] { "engine", "sqlite", "redis" })
        {
            if (w4[0].Cells.TryGetValue(column, out var plain) && plain.P99 is { } p0
                && w4[1].Cells.TryGetValue(column, out var summarized) && summarized.P99 is { } p1)
            {
                yield return string.Create(Inv, $"- W4 {column}: add p99 with summaries {p1:N0} µs = {p1 / p0:0.00}× the p99 without ({p0:N0} µs) (target ≤ 2×: **{(p1 <= 2 * p0 ? "met" : "missed")}**); {summarized.Note}");
            }
        }
    }

    private static string Cell(Row r, string column)
    {
        if (!r.Cells.TryGetValue(column, out var m))
        {
            return "—";
        }
        if (!m.HasValue)
        {
            return m.Note ?? "n/a";
        }
        var main = r.Unit switch
        {
            "msg/s" => string.Create(Inv, $"{m.Median:N0} msg/s [{m.Min:N0}–{m.Max:N0}]"),
            "µs" => string.Create(Inv, $"med {m.Median:N1} µs [{m.Min:N1}–{m.Max:N1}]"),
            "files" => string.Create(Inv, $"{m.Median:N0} files"),
            _ => string.Create(Inv, $"{m.Median:N1} {r.Unit}") + (m.Min != m.Max ? string.Create(Inv, $" [{m.Min:N1}–{m.Max:N1}]") : string.Empty),
        };
        if (m.MegabytesPerSecond is { } mb)
        {
            main += string.Create(Inv, $", {mb:N1} MB/s");
        }
        if (m.P99 is { } p)
        {
            main += string.Create(Inv, $", p99 {p:N0} µs");
        }
        return main;
    }

    private static string Ratio(double? a) => a is { } v ? string.Create(Inv, $"{v:0.00#}×") : "—";
}
