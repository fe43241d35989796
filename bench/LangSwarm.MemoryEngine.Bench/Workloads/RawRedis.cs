using System.Diagnostics;
using System.Text;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Bench.Macro;
using StackExchange.Redis;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// The raw-Redis rows beside the adapter's W2 and W3: the same messages pushed with <c>RPUSH</c> (their content as
/// UTF-8, no metadata, no index, no script) through one StackExchange.Redis multiplexer to the same server, in the
/// same pattern (one list per session, each caller awaiting its push before the next), so the adapter's overhead
/// is the gap between the two rows.
/// </summary>
public static class RawRedis
{
    /// <summary>The Redis column of a raw row over <paramref name="server"/>, or null when there is none.</summary>
    public static BackendSpec? Spec(RedisServer? server) =>
        Backends.Redis(server) is { } spec ? spec with { Mode = spec.Mode + ", raw RPUSH" } : null;

    /// <summary>W2 raw: <paramref name="sessions"/> concurrent callers, each pushing mixed messages to its own list until <paramref name="duration"/> has passed.</summary>
    public static async Task<Sample> ConcurrentAsync(BenchContext ctx, BackendSpec spec, int sessions, TimeSpan duration)
    {
        await using var mux = await ConnectAsync(spec).ConfigureAwait(false);
        var db = mux.GetDatabase();
        var latencies = new List<double>[sessions];
        var bytes = new long[sessions];
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(k => Task.Run(async () =>
        {
            var key = (RedisKey)$"raw:c-{k}";
            var lat = latencies[k] = new List<double>(4096);
            for (long i = 0; sw.Elapsed < duration; i++)
            {
                var payload = Payload(ctx.Data.Mixed((k * 1_000_000L) + i));
                var t0 = Stopwatch.GetTimestamp();
                await db.ListRightPushAsync(key, payload).ConfigureAwait(false);
                lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                bytes[k] += payload.Length;
            }
        }))).ConfigureAwait(false);
        sw.Stop();
        var all = latencies.SelectMany(l => l).ToList();
        return new Sample(all.Count / sw.Elapsed.TotalSeconds, Stats.Percentile(all, 0.99), bytes.Sum() / 1e6 / sw.Elapsed.TotalSeconds);
    }

    /// <summary>W3 raw: <paramref name="total"/> messages pushed one at a time by one caller, to lists of 1,000.</summary>
    public static async Task<Sample> SequentialAsync(BackendSpec spec, int total, Func<long, Message> make)
    {
        const int perSession = 1_000;
        await using var mux = await ConnectAsync(spec).ConfigureAwait(false);
        var db = mux.GetDatabase();
        var payloads = Enumerable.Range(0, total).Select(i => Payload(make(i))).ToList();
        var bytes = payloads.Sum(p => (long)p.Length);
        var latencies = new List<double>(total);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var key = (RedisKey)$"raw:w-{i / perSession}";
            var t0 = Stopwatch.GetTimestamp();
            await db.ListRightPushAsync(key, payloads[i]).ConfigureAwait(false);
            latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }
        sw.Stop();
        return new Sample(total / sw.Elapsed.TotalSeconds, Stats.Percentile(latencies, 0.99), bytes / 1e6 / sw.Elapsed.TotalSeconds);
    }

    private static byte[] Payload(Message m) => Encoding.UTF8.GetBytes(m.Content);

    private static async Task<ConnectionMultiplexer> ConnectAsync(BackendSpec spec)
    {
        var server = spec.Redis ?? throw new InvalidOperationException("A raw Redis row needs a server.");
        await server.FlushAsync().ConfigureAwait(false);
        // The library's defaults, as a user who pushes with StackExchange.Redis would have them: the raw row is the
        // plain client, not a tuned one. (The adapter completes replies on the thread pool, see RedisConnection.)
        return await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{server.Port}").ConfigureAwait(false);
    }
}
