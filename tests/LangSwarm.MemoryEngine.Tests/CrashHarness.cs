using System.Text;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Drives an engine on a <see cref="FaultInjectingFileSystem"/> through a generated program of operations,
/// remembering which writes were acknowledged and which may or may not have happened, then crashes it.
/// </summary>
internal sealed class CrashHarness
{
    private readonly FaultInjectingFileSystem _fs;
    private readonly DurabilityMode _mode;
    private readonly int _syncAllAbove;
    private readonly CancellationTokenSource _stopVacuum = new();
    private int _sessionCounter;
    private Task? _vacuum;

    private readonly IKeyProvider? _encryption;

    public CrashHarness(FaultInjectingFileSystem fs, DurabilityMode mode = DurabilityMode.Strict, int syncAllAbove = 32, IKeyProvider? encryption = null)
    {
        _fs = fs;
        _encryption = encryption;
        _mode = mode;
        _syncAllAbove = syncAllAbove;
    }

    private static long _sessionsPacked;

    /// <summary>Sessions the programs' vacuums packed so far, across every harness (the properties check they pack at all).</summary>
    public static long SessionsPacked => Interlocked.Read(ref _sessionsPacked);

    /// <summary>Messages acknowledged per session, in order.</summary>
    public Dictionary<string, List<Message>> Acked { get; } = new(StringComparer.Ordinal);

    /// <summary>Messages whose add failed or was cut off: they may or may not be present.</summary>
    public Dictionary<string, List<Message>> Maybe { get; } = new(StringComparer.Ordinal);

    /// <summary>Sessions whose live window was shrunk: older messages may have left it (by design, not loss).</summary>
    public HashSet<string> Evictable { get; } = new(StringComparer.Ordinal);

    /// <summary>Sessions whose creation was acknowledged and whose deletion was not attempted.</summary>
    public HashSet<string> LiveSessions { get; } = new(StringComparer.Ordinal);

    /// <summary>Sessions whose deletion was acknowledged.</summary>
    public HashSet<string> Deleted { get; } = new(StringComparer.Ordinal);

    /// <summary>Sessions whose create or delete was cut off: either state is acceptable.</summary>
    public HashSet<string> Uncertain { get; } = new(StringComparer.Ordinal);

    public EngineOptions Options => new()
    {
        Path = "store",
        FileSystem = _fs,
        Durability = _mode,
        Encryption = _encryption,
        SegmentMaxBytes = 4096,
        CheckpointLogBytes = 6 * 1024,
        BatchedInterval = TimeSpan.FromMilliseconds(20),
        SyncAllAbove = _syncAllAbove,
        // Small stores still repack the index file when a vacuum frees a quarter of it, and sessions are let go of
        // after checkpoints and read back from it: crashes land in those paths too.
        IndexCompactMinFreeBytes = 0,
        MaxLoadedSessions = 2,
        // A background vacuum pauses between sessions and before its commit; crashes land inside the pause.
        VacuumPause = TimeSpan.FromMilliseconds(200),
        // Vacuums pack the small sessions (the crashes land in packing, erasures and regrouping too) and leave
        // the larger ones to their own segments.
        PackSessionsBelowBytes = 1500,
        PackSessionsIdleFor = TimeSpan.Zero,
        // Checkpoints commit in parts of a few sessions: crashes land between the parts too.
        CheckpointPartEntries = 12,
    };

    public async Task<EngineBackend> OpenAsync()
    {
        var b = new EngineBackend(Options, new FixedTokenCounter());
        await b.ConnectAsync();
        return b;
    }

    /// <summary>Runs the program until it ends or the device dies; returns false when a fault stopped it.</summary>
    public async Task<bool> RunAsync(EngineBackend backend, byte[] program, Random random)
    {
        var sessions = new List<string>();
        for (var pc = 0; pc + 1 < program.Length; pc += 2)
        {
            var op = program[pc] % 10;
            var arg = program[pc + 1];
            string? target = sessions.Count == 0 ? null : sessions[arg % sessions.Count];
            Trace($"op {op} arg {arg} target {target}");
            try
            {
                switch (op)
                {
                    case 0 or 1 when Deleted.Count > 0 && arg % 3 == 0:
                        // Delete and re-create of one id: the new session owes nothing to the old one.
                        var again = Deleted.First();
                        Deleted.Remove(again);
                        Uncertain.Add(again);
                        Acked[again] = [];
                        Maybe[again] = [];
                        Evictable.Remove(again);
                        await backend.CreateSessionAsync(new SessionMetadata(again, "u") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = 100_000, MaxTokens = int.MaxValue });
                        Uncertain.Remove(again);
                        LiveSessions.Add(again);
                        sessions.Add(again);
                        break;
                    case 0 or 1 when sessions.Count < 4 || target is null:
                        var id = $"s{_sessionCounter++}/../{arg}";
                        Uncertain.Add(id);
                        await backend.CreateSessionAsync(new SessionMetadata(id, "u") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = 100_000, MaxTokens = int.MaxValue });
                        Uncertain.Remove(id);
                        LiveSessions.Add(id);
                        Acked[id] = [];
                        Maybe[id] = [];
                        sessions.Add(id);
                        break;
                    case 2 or 3 or 4 or 5 when target is not null:
                        await AddAsync(backend, target, [MakeMessage(random, arg)]);
                        break;
                    case 6 when target is not null:
                        await AddAsync(backend, target, [MakeMessage(random, arg), MakeMessage(random, arg + 1), MakeMessage(random, arg + 2)]);
                        break;
                    case 7 when target is not null && arg % 4 == 0:
                        sessions.Remove(target);
                        LiveSessions.Remove(target);
                        Uncertain.Add(target);
                        await backend.DeleteSessionAsync(target);
                        Uncertain.Remove(target);
                        Deleted.Add(target);
                        break;
                    case 7 when target is not null:
                        await (await backend.GetSessionAsync(target))!.UpdateMetadataAsync(new Dictionary<string, object?> { ["k"] = arg });
                        break;
                    case 8 when arg % 2 == 0:
                        await backend.CheckpointAsync();
                        break;
                    case 8 when arg % 4 == 1:
                        // A vacuum in the background: the program goes on writing while it rewrites and pauses.
                        if (_vacuum is null || _vacuum.IsCompleted)
                        {
                            _vacuum = backend.VacuumAsync(0.0, _stopVacuum.Token).ContinueWith(
                                t => Interlocked.Add(ref _sessionsPacked, t.IsCompletedSuccessfully ? t.Result.SessionsPacked : 0), TaskScheduler.Default);
                        }
                        break;
                    case 8:
                        Interlocked.Add(ref _sessionsPacked, (await backend.VacuumAsync(0.0)).SessionsPacked);
                        break;
                    case 9 when arg % 3 == 2 && target is not null:
                        // Shrink the live window so older messages become dead bytes for the vacuum.
                        var s = await backend.GetSessionAsync(target);
                        await s!.UpdateMetadataAsync(new Dictionary<string, object?> { ["max_messages"] = 3 });
                        var live = (await s.GetMessagesAsync()).Select(m => m.MessageId).ToHashSet();
                        Acked[target].RemoveAll(m => !live.Contains(m.MessageId));
                        Maybe[target].RemoveAll(m => !live.Contains(m.MessageId));
                        Evictable.Add(target);
                        break;
                    case 9 when arg % 3 == 0:
                        _fs.FailNextFsyncs = 1;
                        break;
                    case 9 when arg % 3 == 1:
                        _fs.CapacityBytes = _fs.UsedBytes + random.Next(0, 4096);
                        break;
                }
            }
            catch (Exception ex) when (ex is MemoryException or IOException)
            {
                Trace($"fault: {ex.GetType().Name}: {ex.Message}");
                return false;
            }
        }
        return true;
    }

    /// <summary>After <see cref="FaultInjectingFileSystem.Kill"/>: lets a background vacuum meet the dead device and end, before the crash image is taken.</summary>
    public async Task StopBackgroundAsync()
    {
        await _stopVacuum.CancelAsync();
        if (_vacuum is not null)
        {
            try
            {
                await _vacuum;
            }
            catch (Exception ex) when (ex is MemoryException or IOException or OperationCanceledException)
            {
                Trace($"background vacuum ended: {ex.GetType().Name}");
            }
        }
    }

    private async Task AddAsync(EngineBackend backend, string sessionId, List<Message> batch)
    {
        var session = await backend.GetSessionAsync(sessionId) ?? throw new InvalidOperationException("model and store disagree before the crash");
        Maybe[sessionId].AddRange(batch.Select(m => m.Clone()));
        if (batch.Count == 1)
        {
            await session.AddMessageAsync(batch[0]);
        }
        else
        {
            await session.AddMessagesAsync(batch);
        }
        Acked[sessionId].AddRange(batch.Select(m => m.Clone()));
        Maybe[sessionId].RemoveRange(Maybe[sessionId].Count - batch.Count, batch.Count);
    }

    private static Message MakeMessage(Random random, int arg)
    {
        var len = random.Next(4) switch { 0 => random.Next(1, 20), 1 => random.Next(50, 400), 2 => random.Next(400, 1500), _ => random.Next(1, 3000) };
        var sb = new StringBuilder(len);
        for (var i = 0; i < len; i++)
        {
            sb.Append(random.Next(10) switch { 0 => 'é', 1 => ' ', 2 => '漢', _ => (char)('a' + random.Next(26)) });
        }
        var m = new Message((MessageRole)(arg % 4 == 3 ? 2 : arg % 3), sb.ToString()) { TokenCount = len / 4 + 1 };
        m.Metadata["n"] = arg;
        if (arg % 5 == 0)
        {
            m.Role = MessageRole.Assistant;
            m.ToolCalls = [new JsonObject { ["id"] = $"c{arg}", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = "{}" } }];
        }
        return m;
    }

    internal static void Trace(string line)
    {
        if (Environment.GetEnvironmentVariable("LSMEM_CRASH_TRACE") is not null)
        {
            File.AppendAllText("/tmp/crash-trace.txt", line + "\n");
        }
    }

    /// <summary>Token counts are given with every message; this counter only serves the summary path.</summary>
    internal sealed class FixedTokenCounter : ITokenCounter
    {
        public int CountTokens(string text) => text.Length / 4 + 1;

        public int CountMessageTokens(Message message) => CountTokens(message.Content) + 4;
    }
}
