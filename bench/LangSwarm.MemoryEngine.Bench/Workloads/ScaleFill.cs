using System.Diagnostics;
using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Bench.Macro;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// The shape of an S2 store: <paramref name="Sessions"/> sessions of <paramref name="MessagesEach"/> mixed messages.
/// Ids, users and message indices follow from it alone, so the bench process and its children (and engine and
/// SQLite) name the same sessions and write the same messages.
/// </summary>
/// <param name="Name">wide (many small sessions) or long (few long ones).</param>
/// <param name="Sessions">Sessions the full fill creates.</param>
/// <param name="MessagesEach">Messages per session.</param>
public sealed record ScaleShape(string Name, int Sessions, int MessagesEach)
{
    /// <summary>Messages per add call: a wide session is written in one call, a long one in batches of 100.</summary>
    public int Batch => Math.Min(MessagesEach, 100);

    /// <summary>Users the sessions belong to: 100 sessions each, so a listing's first page of 20 is a real page.</summary>
    public int Users => Math.Max(1, Sessions / 100);

    /// <summary>Messages of the full fill.</summary>
    public long Messages => (long)Sessions * MessagesEach;

    /// <summary>The id of session <paramref name="k"/>.</summary>
    public string SessionId(int k) => $"{Name}-{k}";

    /// <summary>The owner of session <paramref name="k"/>.</summary>
    public string UserId(int k) => $"u{k % Users}";
}

/// <summary>What a fill wrote before its target or its time budget.</summary>
/// <param name="Sessions">Sessions created (wide: those filled; long: all of them).</param>
/// <param name="Messages">Messages added.</param>
/// <param name="Elapsed">Time the fill took.</param>
/// <param name="StoppedByBudget">True when the budget ended the fill before its target.</param>
public sealed record ScaleFilled(int Sessions, long Messages, TimeSpan Elapsed, bool StoppedByBudget);

/// <summary>Fills S2 stores (time-budgeted like S1's fill) and adds the tail a killed child leaves unrecovered.</summary>
public static class ScaleFill
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Fills <paramref name="b"/> toward <paramref name="targetMessages"/> messages of <paramref name="shape"/>.
    /// Wide: one session after another, each created and given its messages in one call. Long: every session
    /// created first, then batches of 100 round robin, so that their segments grow side by side as in use.
    /// </summary>
    public static async Task<ScaleFilled> RunAsync(DataGenerator data, IMemoryBackend b, ScaleShape shape, long targetMessages, TimeSpan budget, string label)
    {
        var sw = Stopwatch.StartNew();
        var nextLog = ProgressEvery;
        long written = 0;
        var sessions = 0;
        if (shape.MessagesEach <= shape.Batch)
        {
            while (written < targetMessages && sessions < shape.Sessions && sw.Elapsed < budget)
            {
                var s = await b.CreateSessionAsync(Backends.Session(shape.SessionId(sessions), shape.UserId(sessions))).ConfigureAwait(false);
                await s.AddMessagesAsync(data.MixedBatch(written, shape.MessagesEach)).ConfigureAwait(false);
                written += shape.MessagesEach;
                sessions++;
                Progress(label, sw, ref nextLog, sessions, written);
            }
        }
        else
        {
            var all = new IMemorySession[shape.Sessions];
            for (var k = 0; k < all.Length; k++)
            {
                all[k] = await b.CreateSessionAsync(Backends.Session(shape.SessionId(k), shape.UserId(k))).ConfigureAwait(false);
            }
            sessions = all.Length;
            for (var block = 0; written < targetMessages && sw.Elapsed < budget; block++)
            {
                var count = (int)Math.Min(shape.Batch, targetMessages - written);
                await all[block % all.Length].AddMessagesAsync(data.MixedBatch(written, count)).ConfigureAwait(false);
                written += count;
                Progress(label, sw, ref nextLog, sessions, written);
            }
        }
        return new ScaleFilled(sessions, written, sw.Elapsed, written < targetMessages);
    }

    /// <summary>
    /// The unclean child's work: <paramref name="messages"/> more messages to sessions picked by the seed and
    /// <paramref name="round"/> (wide: 5 to each of messages ÷ 5 sessions; long: batches of 100 round robin).
    /// Message indices (and so ids and timestamps) continue past the full fill's, so they never repeat one the
    /// store holds.
    /// </summary>
    public static async Task AddTailAsync(DataGenerator data, IMemoryBackend b, ScaleShape shape, int filledSessions, int messages, int round)
    {
        var rng = new Random(DataGenerator.Seed + 1_000 + round);
        var index = shape.Messages + ((long)round * messages);
        for (var added = 0; added < messages;)
        {
            var k = shape.MessagesEach <= shape.Batch ? rng.Next(filledSessions) : added / shape.Batch % filledSessions;
            var count = Math.Min(shape.Batch, messages - added);
            var session = await b.GetSessionAsync(shape.SessionId(k)).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"S2 tail: session {shape.SessionId(k)} is missing");
            await session.AddMessagesAsync(data.MixedBatch(index + added, count)).ConfigureAwait(false);
            added += count;
        }
    }

    private static void Progress(string label, Stopwatch sw, ref TimeSpan nextLog, int sessions, long written)
    {
        if (sw.Elapsed < nextLog)
        {
            return;
        }
        nextLog += ProgressEvery;
        BenchContext.Log(string.Create(CultureInfo.InvariantCulture, $"{label}: {sessions:N0} sessions, {written:N0} messages ({written / sw.Elapsed.TotalSeconds:N0} msg/s)"));
    }
}
