using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>W1 durable add one session at a time, W2 durable add from 64 sessions, W3 relaxed add single and batched.</summary>
public static class Writes
{
    /// <summary>Runs W1–W3.</summary>
    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        BackendSpec?[] durable = [Backends.Engine(DurabilityMode.Strict), Backends.Sqlite(SqliteDurability.Full), Backends.Redis(ctx.DurableRedis)];
        Task<Measure> W1(BackendSpec s) => Repeat(ctx, () => Sequential(ctx, s, o.W1Messages, 1, i => ctx.Data.Mixed(i)));
        var w1 = await ctx.MeasureRowAsync(new Row("W1", $"durable add, one session at a time, mixed messages ({Modes(durable)})", "msg/s", true), durable, W1).ConfigureAwait(false);
        await ctx.MeasureRowAsync(Backends.Encrypted(w1), [Backends.Engine(DurabilityMode.Strict, encrypted: true)], W1).ConfigureAwait(false);

        var (sessions, duration) = o.W2;
        var each = string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.#} s per repetition");
        var w2 = new Row("W2", $"durable add, {sessions} concurrent sessions, {each} ({Modes(durable)})", "msg/s", true)
        {
            Target = Targets.AtLeastTimesSqlite(10, "engine Strict ≥ 10× SQLite FULL"),
        };
        using (var groups = new CommitGroups())
        {
            await ctx.MeasureRowAsync(w2, durable, s => Repeat(ctx, () => Concurrent(ctx, s, sessions, duration))).ConfigureAwait(false);
            await ctx.MeasureRowAsync(Backends.Encrypted(w2), [Backends.Engine(DurabilityMode.Strict, encrypted: true)], s => Repeat(ctx, () => Concurrent(ctx, s, sessions, duration))).ConfigureAwait(false);
            if (groups.Fsyncs > 0)
            {
                w2.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"engine: {groups.Adds / (double)groups.Fsyncs:0.0} adds per commit-log fsync on average ({groups.Fsyncs:N0} fsyncs, all repetitions and the warm-up)"));
            }
        }
        await ctx.MeasureRowAsync(
            new Row("W2", $"raw Redis beside W2: the same messages RPUSHed, {sessions} callers, {each}, no metadata (redis appendfsync always)", "msg/s", true),
            [RawRedis.Spec(ctx.DurableRedis)],
            s => Repeat(ctx, () => RawRedis.ConcurrentAsync(ctx, s, sessions, duration))).ConfigureAwait(false);

        var redisRelaxed = Backends.Redis(ctx.RelaxedRedis);
        foreach (var mode in new[] { DurabilityMode.None, DurabilityMode.Batched })
        {
            BackendSpec?[] relaxed = [Backends.Engine(mode), Backends.Sqlite(SqliteDurability.Normal), redisRelaxed];
            var target = mode == DurabilityMode.None ? Targets.AtLeast(200_000, "engine None ≥ 200,000 1-KB msg/s") : null;
            Task<Measure> Single(BackendSpec s) => Repeat(ctx, () => Sequential(ctx, s, o.W3Messages, 1, i => ctx.Data.Fixed(1024, i), besideLz4: true));
            var single = await ctx.MeasureRowAsync(new Row("W3", $"relaxed add, single AddMessageAsync, 1-KB messages ({Modes(relaxed)})", "msg/s", true) { Target = target }, relaxed, Single).ConfigureAwait(false);
            if (mode == DurabilityMode.None)
            {
                await ctx.MeasureRowAsync(Backends.Encrypted(single), [Backends.Engine(mode, encrypted: true)], Single).ConfigureAwait(false);
            }
            if (mode == DurabilityMode.None)
            {
                await ctx.MeasureRowAsync(
                    new Row("W3", "raw Redis beside W3 single: the same 1-KB messages RPUSHed one at a time, no metadata (redis appendonly no)", "msg/s", true),
                    [RawRedis.Spec(ctx.RelaxedRedis)],
                    s => Repeat(ctx, () => RawRedis.SequentialAsync(s, o.W3Messages, i => ctx.Data.Fixed(1024, i)))).ConfigureAwait(false);
            }
            Task<Measure> Batch(BackendSpec s) => Repeat(ctx, () => Sequential(ctx, s, o.W3Messages, o.W3Batch, i => ctx.Data.Fixed(1024, i), besideLz4: true));
            var batch = await ctx.MeasureRowAsync(new Row("W3", $"relaxed add, AddMessagesAsync ×{o.W3Batch}, 1-KB messages ({Modes(relaxed)})", "msg/s", true) { Target = target }, relaxed, Batch).ConfigureAwait(false);
            if (mode == DurabilityMode.None)
            {
                await ctx.MeasureRowAsync(Backends.Encrypted(batch), [Backends.Engine(mode, encrypted: true)], Batch).ConfigureAwait(false);
            }
        }
    }

    /// <summary>"engine Strict / sqlite WAL, synchronous=FULL / redis appendfsync always".</summary>
    public static string Modes(IEnumerable<BackendSpec?> specs) => string.Join(" · ", specs.OfType<BackendSpec>().Select(s => $"{s.Column} {s.Mode}"));

    /// <summary>Repeats a measurement and folds the samples.</summary>
    public static async Task<Measure> Repeat(BenchContext ctx, Func<Task<Sample>> once)
    {
        var samples = new List<Sample>();
        if (ctx.Options.Warmup)
        {
            var warm = Stopwatch.StartNew();
            do
            {
                await once().ConfigureAwait(false);
            }
            while (warm.Elapsed < ctx.Options.WarmupTime);
        }
        for (var r = 0; r < ctx.Options.Repetitions; r++)
        {
            samples.Add(await once().ConfigureAwait(false));
        }
        return Stats.Fold(samples);
    }

    /// <summary>
    /// Adds <paramref name="total"/> messages in sessions of 1,000, <paramref name="batch"/> per call; throughput and
    /// per-call latency. With <paramref name="besideLz4"/>, the engine's repetitions also measure the LZ4 line just
    /// before they start, so the ratio of the two compares like with like.
    /// </summary>
    private static async Task<Sample> Sequential(BenchContext ctx, BackendSpec spec, int total, int batch, Func<long, Message> make, bool besideLz4 = false)
    {
        const int perSession = 1_000;
        var messages = Enumerable.Range(0, total).Select(i => make(i)).ToList();
        var bytes = messages.Sum(DataGenerator.PayloadBytes);
        var dir = ctx.NewDir();
        try
        {
            await using var b = await spec.OpenAsync(dir).ConfigureAwait(false);
            var latencies = new List<double>(total / batch + 1);
            IMemorySession? s = null;
            double? lz4 = besideLz4 && spec.Column == "engine" ? ctx.Lz4.MixedMBps(TimeSpan.FromMilliseconds(150)) : null;
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < total; i += batch)
            {
                if (i % perSession == 0 || s is null)
                {
                    s = await b.CreateSessionAsync(Backends.Session($"w-{i / perSession}")).ConfigureAwait(false);
                }
                var t0 = Stopwatch.GetTimestamp();
                if (batch == 1)
                {
                    await s.AddMessageAsync(messages[i]).ConfigureAwait(false);
                }
                else
                {
                    await s.AddMessagesAsync(messages.GetRange(i, Math.Min(batch, total - i))).ConfigureAwait(false);
                }
                latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
            sw.Stop();
            return new Sample(total / sw.Elapsed.TotalSeconds, Stats.Percentile(latencies, 0.99), bytes / 1e6 / sw.Elapsed.TotalSeconds, lz4);
        }
        finally
        {
            BenchContext.Remove(dir);
        }
    }

    /// <summary>
    /// <paramref name="sessions"/> callers, each adding mixed messages to its own session one at a time until
    /// <paramref name="duration"/> has passed; the rate counts every add that completed.
    /// </summary>
    private static async Task<Sample> Concurrent(BenchContext ctx, BackendSpec spec, int sessions, TimeSpan duration)
    {
        var dir = ctx.NewDir();
        try
        {
            await using var b = await spec.OpenAsync(dir).ConfigureAwait(false);
            var handles = new IMemorySession[sessions];
            for (var k = 0; k < sessions; k++)
            {
                handles[k] = await b.CreateSessionAsync(Backends.Session($"c-{k}")).ConfigureAwait(false);
            }
            var latencies = new List<double>[sessions];
            var bytes = new long[sessions];
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, sessions).Select(k => Task.Run(async () =>
            {
                var lat = latencies[k] = new List<double>(4096);
                for (long i = 0; sw.Elapsed < duration; i++)
                {
                    var m = ctx.Data.Mixed((k * 1_000_000L) + i);
                    var t0 = Stopwatch.GetTimestamp();
                    await handles[k].AddMessageAsync(m).ConfigureAwait(false);
                    lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                    bytes[k] += DataGenerator.PayloadBytes(m);
                }
            }))).ConfigureAwait(false);
            sw.Stop();
            var all = latencies.SelectMany(l => l).ToList();
            return new Sample(all.Count / sw.Elapsed.TotalSeconds, Stats.Percentile(all, 0.99), bytes.Sum() / 1e6 / sw.Elapsed.TotalSeconds);
        }
        finally
        {
            BenchContext.Remove(dir);
        }
    }

    /// <summary>Counts the engine's group commits (its <c>commit_group.size</c> histogram) while it lives.</summary>
    private sealed class CommitGroups : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _adds;
        private long _fsyncs;

        public CommitGroups()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MemoryTelemetry.MeterName && instrument.Name == MemoryTelemetry.EngineCommitGroupSize)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, adds, _, _) =>
            {
                Interlocked.Add(ref _adds, adds);
                Interlocked.Increment(ref _fsyncs);
            });
            _listener.Start();
        }

        public long Adds => Interlocked.Read(ref _adds);

        public long Fsyncs => Interlocked.Read(ref _fsyncs);

        public void Dispose() => _listener.Dispose();
    }
}
