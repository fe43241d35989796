using System.Diagnostics;
using System.Globalization;
using LangSwarm.MemoryEngine.Bench.Workloads;

namespace LangSwarm.MemoryEngine.Bench.Macro;

/// <summary>The macro run: limits, servers, every workload, then the report and chart.</summary>
public static class Harness
{
    /// <summary>Runs <c>macro [--quick] [--out DIR]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var options = MacroOptions.Parse(args);
        var total = Stopwatch.StartNew();
        var workDir = Path.Combine(Path.GetTempPath(), $"lsmem-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(workDir);
        BenchContext.Log($"macro {(options.Quick ? "--quick " : string.Empty)}in {workDir}; generating data (seed {DataGenerator.Seed}) ...");
        var ctx = new BenchContext(options, new DataGenerator(), workDir);
        try
        {
            if (options.Only is null || options.Limits)
            {
                BenchContext.Log("physical limits ...");
                ctx.Limits = PhysicalLimits.Measure(workDir, ctx.Data, options.Quick);
            }
            if (!options.IncludesBackend("redis"))
            {
                BenchContext.Log("redis not selected (--backends).");
            }
            else if (RedisServer.FindExecutable() is { } exe)
            {
                ctx.DurableRedis = await RedisServer.StartAsync(exe, workDir, RedisPersistence.AppendFsyncAlways).ConfigureAwait(false);
                ctx.RelaxedRedis = await RedisServer.StartAsync(exe, workDir, RedisPersistence.None).ConfigureAwait(false);
            }
            else
            {
                BenchContext.Log("redis-server not found: the Redis column says so.");
            }
            if (options.IncludesAny("W1", "W2", "W3"))
            {
                await Writes.RunAsync(ctx).ConfigureAwait(false);
            }
            if (options.IncludesAny("W4"))
            {
                await Summaries.RunAsync(ctx).ConfigureAwait(false);
            }
            if (options.IncludesAny("R1", "R2"))
            {
                await Reads.RunAsync(ctx).ConfigureAwait(false);
            }
            if (options.IncludesAny("S1", "O1", "B1"))
            {
                var stores = await Space.RunAsync(ctx).ConfigureAwait(false);
                if (options.IncludesAny("B1"))
                {
                    await BackupWorkload.RunAsync(ctx, stores).ConfigureAwait(false);
                }
                await Open.RunAsync(ctx, stores).ConfigureAwait(false);
            }
            if (options.IncludesAny("C1"))
            {
                await CompactionWorkload.RunAsync(ctx).ConfigureAwait(false);
            }
            if (options.IncludesAny("M1"))
            {
                await PeakMemory.RunAsync(ctx).ConfigureAwait(false);
            }
            if (options.IncludesAny("M2"))
            {
                await PeakMemory.RunWriterAsync(ctx).ConfigureAwait(false);
            }
            if (options.RunsScale)
            {
                // Last: its fills are the longest part of a --scale run, and M1 (its peak target's reference) is done by then.
                await Scale.RunAsync(ctx).ConfigureAwait(false);
            }
        }
        finally
        {
            if (ctx.DurableRedis is not null)
            {
                await ctx.DurableRedis.DisposeAsync().ConfigureAwait(false);
            }
            if (ctx.RelaxedRedis is not null)
            {
                await ctx.RelaxedRedis.DisposeAsync().ConfigureAwait(false);
            }
            BenchContext.Remove(workDir);
        }

        Directory.CreateDirectory(options.OutDir);
        var date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var chartFile = $"{date}.png";
        string? chartError = null;
        try
        {
            Chart.Write(ctx.Rows, Path.Combine(options.OutDir, chartFile), $"LangSwarm.MemoryEngine {date}{(options.Quick ? " (--quick)" : string.Empty)}");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            chartError = $"{ex.GetType().Name}: {ex.Message}";
            BenchContext.Log($"chart failed: {ex}");
        }
        var md = Report.Markdown(ctx, total.Elapsed, chartFile, chartError);
        var mdPath = Path.Combine(options.OutDir, $"{date}.md");
        await File.WriteAllTextAsync(mdPath, md).ConfigureAwait(false);
        Console.WriteLine(md);
        BenchContext.Log($"wrote {mdPath}{(chartError is null ? $" and {Path.Combine(options.OutDir, chartFile)}" : string.Empty)} in {total.Elapsed.TotalSeconds:0} s");
        return 0;
    }
}
