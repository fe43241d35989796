using System.Diagnostics;
using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// M1: peak working set per backend. Each backend runs in a child process of this executable
/// (<c>macro-one --backend X --messages N [--redis-port P]</c>) so working sets are not shared. M2: the same for
/// a writer in the shape of <c>lsmem write-load</c> (<c>--sessions S</c>: single adds, round-robin over S
/// sessions whose handles it holds, no reads).
/// </summary>
public static class PeakMemory
{
    private const string Marker = "PEAK_WORKING_SET ";

    /// <summary>Runs M1 through child processes.</summary>
    public static async Task RunAsync(BenchContext ctx)
    {
        var n = ctx.Options.M1Messages;
        var row = new Row("M1", $"peak working set of a process that adds {n:N0} mixed messages (batches of 100) and reads 200 contexts", "MB", false);
        var specs = new List<(string Column, string Args)> { ("engine", "--backend engine"), ("sqlite", "--backend sqlite") };
        if (ctx.RelaxedRedis is { } redis)
        {
            specs.Add(("redis", $"--backend redis --redis-port {redis.Port}"));
        }
        await ctx.MeasureRowAsync(row, specs.Select(s => new BackendSpec(s.Column, "child process", _ => throw new NotSupportedException(), s.Column == "redis" ? ctx.RelaxedRedis : null)), async spec =>
        {
            if (spec.Redis is not null)
            {
                await spec.Redis.FlushAsync().ConfigureAwait(false);
            }
            var args = specs.First(s => s.Column == spec.Column).Args;
            var dir = ctx.NewDir();
            try
            {
                var peak = await RunChildAsync($"macro-one {args} --messages {n} --dir \"{dir}\"").ConfigureAwait(false);
                if (spec.Redis is not null)
                {
                    var used = await spec.Redis.UsedMemoryAsync().ConfigureAwait(false);
                    row.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"redis: client process only; redis-server used_memory after the run {used / 1e6:0.0} MB"));
                }
                return new Measure(peak / 1e6, peak / 1e6, peak / 1e6, Note: "one run");
            }
            finally
            {
                BenchContext.Remove(dir);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Runs M2 (engine and SQLite) through child processes.</summary>
    public static async Task RunWriterAsync(BenchContext ctx)
    {
        var (n, sessions) = ctx.Options.Quick ? (20_000, 400) : (1_000_000, 20_000);
        var scale = n >= 1_000_000 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; at N = {n:N0} over {sessions:N0} sessions, not 1,000,000 over 20,000");
        var row = new Row("M2", $"peak working set of a process that adds {n:N0} mixed messages one at a time, round-robin over {sessions:N0} sessions whose handles it holds (the shape of lsmem write-load)", "MB", false)
        {
            Target = Targets.AtMost(100, "MB", "engine ≤ 100 MB for 1,000,000 messages over 20,000 sessions", scale),
        };
        var specs = new List<(string Column, string Args)> { ("engine", "--backend engine"), ("sqlite", "--backend sqlite") };
        row.Cells["redis"] = Measure.NotApplicable("not measured (M2: engine and SQLite)");
        await ctx.MeasureRowAsync(row, specs.Select(s => new BackendSpec(s.Column, "child process", _ => throw new NotSupportedException(), null)), async spec =>
        {
            var args = specs.First(s => s.Column == spec.Column).Args;
            var dir = ctx.NewDir();
            try
            {
                var sw = Stopwatch.StartNew();
                var peak = await RunChildAsync($"macro-one {args} --messages {n} --sessions {sessions} --dir \"{dir}\"").ConfigureAwait(false);
                row.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{spec.Column}: the child wrote and closed in {sw.Elapsed.TotalSeconds:0} s"));
                return new Measure(peak / 1e6, peak / 1e6, peak / 1e6, Note: "one run");
            }
            finally
            {
                BenchContext.Remove(dir);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>The child side: fill, read, print the peak working set.</summary>
    public static async Task<int> ChildAsync(string[] args)
    {
        string? backend = null;
        string? dir = null;
        var n = 10_000;
        var port = 0;
        var writers = 0;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--backend": backend = args[i + 1]; break;
                case "--messages": n = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--redis-port": port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--dir": dir = args[i + 1]; break;
                case "--sessions": writers = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown macro-one option '{args[i]}'.");
            }
        }
        dir ??= Path.Combine(Path.GetTempPath(), $"lsmem-m1-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        IMemoryBackend b = backend switch
        {
            "engine" => Backends.Engine(DurabilityMode.None).Create(dir),
            "sqlite" => Backends.Sqlite(SqliteDurability.Normal).Create(dir),
            "redis" => new Memory.Redis.RedisBackend(new Memory.Redis.RedisBackendOptions { Host = "127.0.0.1", Port = port, KeyPrefix = "m1" }),
            _ => throw new ArgumentException("macro-one needs --backend engine|sqlite|redis."),
        };
        var data = new DataGenerator();
        await using (b)
        {
            await b.ConnectAsync().ConfigureAwait(false);
            if (writers > 0)
            {
                await WriteRoundRobinAsync(b, data, n, writers).ConfigureAwait(false);
            }
            else
            {
                await FillAndReadAsync(b, data, n).ConfigureAwait(false);
            }
        }
        PrintPeak();
        return 0;
    }

    // M1: batches of 100 into sessions of 1,000 messages, then 200 context reads.
    private static async Task FillAndReadAsync(IMemoryBackend b, DataGenerator data, int n)
    {
        var sessions = new List<IMemorySession>();
        for (var i = 0; i < n; i += 100)
        {
            if (i % 1_000 == 0)
            {
                sessions.Add(await b.CreateSessionAsync(Backends.Session($"m-{i / 1_000}")).ConfigureAwait(false));
            }
            await sessions[^1].AddMessagesAsync(data.MixedBatch(i, Math.Min(100, n - i))).ConfigureAwait(false);
        }
        for (var c = 0; c < 200; c++)
        {
            await sessions[c % sessions.Count].GetConversationContextAsync(8000).ConfigureAwait(false);
        }
    }

    // M2: every session created and held first, then single adds round-robin (lsmem write-load's shape).
    private static async Task WriteRoundRobinAsync(IMemoryBackend b, DataGenerator data, int n, int count)
    {
        var sessions = new IMemorySession[count];
        for (var k = 0; k < count; k++)
        {
            sessions[k] = await b.CreateSessionAsync(Backends.Session($"w-{k}", $"u{k % 100}")).ConfigureAwait(false);
        }
        for (var i = 0; i < n; i++)
        {
            await sessions[i % count].AddMessageAsync(data.Mixed(i)).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a child that ends with <see cref="PrintPeak"/>; returns its peak working set in bytes.</summary>
    public static async Task<long> RunChildAsync(string arguments) =>
        long.Parse(await ChildProcess.RunForMarkerAsync(arguments, Marker).ConfigureAwait(false), CultureInfo.InvariantCulture);

    /// <summary>The child's last word: its peak working set, for <see cref="RunChildAsync"/>.</summary>
    public static void PrintPeak()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine(Marker + self.PeakWorkingSet64.ToString(CultureInfo.InvariantCulture));
    }
}
