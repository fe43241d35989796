using System.Globalization;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>A filled store left on disk for O1: the cleanly closed directory and the snapshot taken while open.</summary>
public sealed record FilledStore(BackendSpec Spec, string CleanDir, string CrashDir, long Messages);

/// <summary>S1: disk bytes per message (Redis: used_memory per message) after filling.</summary>
public static class Space
{
    /// <summary>Runs S1; returns the engine and SQLite stores for O1.</summary>
    public static async Task<List<FilledStore>> RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var filled = new List<FilledStore>();
        BackendSpec?[] specs = [Backends.Engine(DurabilityMode.None), Backends.Sqlite(SqliteDurability.Normal), Backends.Redis(ctx.RelaxedRedis)];
        var row = new Row("S1", $"bytes per message after N mixed messages, half in 10 long sessions, half in sessions of 10 (target N {o.SpaceMessages:N0}, fill budget {o.FillBudget.TotalSeconds:0} s each)", "B/msg", false)
        {
            Target = Targets.AtMostRatioOfSqlite(0.6, "engine ≤ 0.6× SQLite"),
        };
        async Task<Measure> Bytes(BackendSpec spec, bool keep)
        {
            var dir = ctx.NewDir();
            var crash = dir + "-crash";
            long before = 0;
            long n;
            await using (var b = await spec.OpenAsync(dir).ConfigureAwait(false))
            {
                if (spec.Redis is not null)
                {
                    before = await spec.Redis.UsedMemoryAsync().ConfigureAwait(false);
                }
                n = await Fill.RunAsync(ctx, b, o.SpaceMessages, o.FillBudget).ConfigureAwait(false);
                if (spec.Redis is not null)
                {
                    var used = await spec.Redis.UsedMemoryAsync().ConfigureAwait(false) - before;
                    row.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"redis: N = {n:N0}, used_memory grew {used / 1e6:0.0} MB (memory, not disk)"));
                    return new Measure((double)used / n, (double)used / n, (double)used / n);
                }
                Fill.CopyWhileOpen(dir, crash);
            }
            var bytes = Backends.DirectoryBytes(dir);
            row.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{spec.Column} ({spec.Mode}): N = {n:N0} messages, {bytes / 1e6:0.0} MB on disk after close"));
            if (keep)
            {
                filled.Add(new FilledStore(spec, dir, crash, n));
            }
            else
            {
                BenchContext.Remove(dir);
                BenchContext.Remove(crash);
            }
            return new Measure((double)bytes / n, (double)bytes / n, (double)bytes / n);
        }
        await ctx.MeasureRowAsync(row, specs, spec => Bytes(spec, keep: true)).ConfigureAwait(false);
        await ctx.MeasureRowAsync(Backends.Encrypted(row), [Backends.Engine(DurabilityMode.None, encrypted: true)], spec => Bytes(spec, keep: false)).ConfigureAwait(false);
        row.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"mean payload (content + call JSON) {ctx.Data.MeanMixedBytes:0} B/msg"));
        return filled;
    }
}
