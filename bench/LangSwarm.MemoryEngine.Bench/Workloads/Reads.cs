using System.Diagnostics;
using LangSwarm.Memory;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>R1 context reads and R2 filtered reads on sessions of 1,000 messages, with small sessions beside them.</summary>
public static class Reads
{
    private static readonly MessageRole[] Roles = [MessageRole.User, MessageRole.Assistant];

    /// <summary>Runs R1 and R2 (one filled store per backend serves all three rows).</summary>
    public static async Task RunAsync(BenchContext ctx)
    {
        var (longSessions, small, calls) = ctx.Options.Reads;
        BackendSpec?[] specs = [Backends.Engine(DurabilityMode.None), Backends.Sqlite(SqliteDurability.Normal), Backends.Redis(ctx.RelaxedRedis)];
        var r1 = new Row("R1", $"GetConversationContextAsync(8000), warm, {longSessions} sessions of 1,000 messages", "µs", false)
        {
            Target = Targets.LatencyAndFactor(100, 10, "median ≤ 100 µs and ≥ 10× SQLite"),
        };
        var r2a = new Row("R2", "GetMessagesAsync(limit 50, since mid-session, roles user+assistant)", "µs", false);
        var r2b = new Row("R2", $"ListSessionsAsync(user, Active, limit 20, offset 20) over {longSessions + small:N0} sessions, 20 users", "µs", false);
        var r1Encrypted = Backends.Encrypted(r1);
        ctx.Rows.AddRange([r1, r1Encrypted, r2a, r2b]);
        foreach (var spec in specs.OfType<BackendSpec>())
        {
            BenchContext.Log($"R1/R2 {spec.Column} ({spec.Mode}) ...");
            var dir = ctx.NewDir();
            try
            {
                await using var b = await spec.OpenAsync(dir).ConfigureAwait(false);
                var sessions = await FillAsync(ctx, b, longSessions, small).ConfigureAwait(false);
                var contextSize = (await sessions[0].GetConversationContextAsync(8000).ConfigureAwait(false)).Count;
                r1.Cells[spec.Column] = await TimeAsync(ctx, calls, async c => await sessions[c % sessions.Length].GetConversationContextAsync(8000).ConfigureAwait(false)).ConfigureAwait(false);
                r1.Notes.Add($"{spec.Column}: context holds {contextSize} messages");
                r2a.Cells[spec.Column] = await TimeAsync(ctx, calls, async c =>
                {
                    var k = c % sessions.Length;
                    await sessions[k].GetMessagesAsync(50, DataGenerator.Epoch.AddSeconds((k * 1_000) + 500), Roles).ConfigureAwait(false);
                }).ConfigureAwait(false);
                r2b.Cells[spec.Column] = await TimeAsync(ctx, calls, async c => await b.ListSessionsAsync($"u{c % 20}", SessionStatus.Active, 20, 20).ConfigureAwait(false)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                BenchContext.Log($"R1/R2 {spec.Column} failed: {ex}");
                foreach (var r in new[] { r1, r2a, r2b })
                {
                    r.Cells.TryAdd(spec.Column, Measure.NotApplicable($"failed: {ex.GetType().Name}: {ex.Message}"));
                }
            }
            finally
            {
                BenchContext.Remove(dir);
            }
        }
        // The same R1 on an encrypted engine store, right after the plain one.
        var encrypted = Backends.Engine(DurabilityMode.None, encrypted: true);
        BenchContext.Log($"R1 {encrypted.Column} ({encrypted.Mode}) ...");
        var encryptedDir = ctx.NewDir();
        try
        {
            await using var b = await encrypted.OpenAsync(encryptedDir).ConfigureAwait(false);
            var sessions = await FillAsync(ctx, b, longSessions, small).ConfigureAwait(false);
            r1Encrypted.Cells[encrypted.Column] = await TimeAsync(ctx, calls, async c => await sessions[c % sessions.Length].GetConversationContextAsync(8000).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            BenchContext.Log($"R1 encrypted failed: {ex}");
            r1Encrypted.Cells[encrypted.Column] = Measure.NotApplicable($"failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            BenchContext.Remove(encryptedDir);
        }
        foreach (var r in new[] { r1, r2a, r2b })
        {
            foreach (var c in Backends.Columns.Where(c => !r.Cells.ContainsKey(c)))
            {
                r.Cells[c] = Measure.NotApplicable("redis-server not found");
            }
        }
    }

    /// <summary>Long sessions of 1,000 mixed messages (batched adds) and small sessions of 5 over 20 users, every 5th archived.</summary>
    private static async Task<IMemorySession[]> FillAsync(BenchContext ctx, IMemoryBackend b, int longSessions, int small)
    {
        var sessions = new IMemorySession[longSessions];
        for (var k = 0; k < longSessions; k++)
        {
            sessions[k] = await b.CreateSessionAsync(Backends.Session($"long-{k}", $"u{k % 20}")).ConfigureAwait(false);
            for (var j = 0; j < 1_000; j += 100)
            {
                await sessions[k].AddMessagesAsync(ctx.Data.MixedBatch((k * 1_000L) + j, 100)).ConfigureAwait(false);
            }
        }
        for (var k = 0; k < small; k++)
        {
            var s = await b.CreateSessionAsync(Backends.Session($"small-{k}", $"u{k % 20}")).ConfigureAwait(false);
            await s.AddMessagesAsync(ctx.Data.MixedBatch(k * 5L, 5)).ConfigureAwait(false);
            if (k % 5 == 4)
            {
                await s.ArchiveSessionAsync().ConfigureAwait(false);
            }
        }
        return sessions;
    }

    /// <summary>Per repetition: <paramref name="calls"/> timed calls after a warm-up; median and p99; folded over repetitions.</summary>
    private static async Task<Measure> TimeAsync(BenchContext ctx, int calls, Func<int, Task> call)
    {
        for (var c = 0; c < Math.Min(calls, 50); c++)
        {
            await call(c).ConfigureAwait(false);
        }
        var samples = new List<Sample>();
        for (var r = 0; r < ctx.Options.Repetitions; r++)
        {
            var lat = new List<double>(calls);
            for (var c = 0; c < calls; c++)
            {
                var t0 = Stopwatch.GetTimestamp();
                await call(c).ConfigureAwait(false);
                lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
            samples.Add(new Sample(Stats.Median(lat), Stats.Percentile(lat, 0.99)));
        }
        return Stats.Fold(samples);
    }
}
