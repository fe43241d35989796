using BenchmarkDotNet.Attributes;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Bench.Micro;

/// <summary>
/// The engine's index queries on large stores through the public API only (so the same class runs against older
/// builds): a user's newest sessions and the archived sessions among <see cref="Sessions"/> sessions of 1,000 users,
/// and the newest 50 user/assistant messages since mid-session of one 100,000-message session. The stores are
/// built once per build under the temp directory and reused; setup prints the managed heap after a full
/// collection, which is what the index holds in memory.
/// </summary>
[MemoryDiagnoser]
public class IndexQueryBenchmarks
{
    private const int Users = 1_000;
    private const int LongMessages = 100_000;

    private EngineBackend _backend = null!;
    private IMemorySession _long = null!;
    private DateTimeOffset _mid;
    private int _next;

    /// <summary>Sessions in the store (1% archived).</summary>
    [Params(1_000_000)]
    public int Sessions { get; set; }

    /// <summary>Opens the store, building it first when this build has none yet.</summary>
    [GlobalSetup]
    public async Task Setup()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"lsmem-micro-index-{Sessions}-{typeof(EngineBackend).Assembly.ManifestModule.ModuleVersionId:N}");
        var built = Directory.Exists(Path.Combine(dir, "done"));
        if (!built && Directory.Exists(dir))
        {
            Directory.Delete(dir, true);
        }
        _backend = new EngineBackend(new EngineOptions { Path = dir, Durability = DurabilityMode.None });
        await _backend.ConnectAsync();
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        if (!built)
        {
            for (var k = 0; k < Sessions; k++)
            {
                var at = t0.AddSeconds(k);
                var s = await _backend.CreateSessionAsync(new SessionMetadata($"s-{k}", $"u{k % Users}") { CreatedAt = at, UpdatedAt = at });
                if (k % 100 == 7)
                {
                    await s.ArchiveSessionAsync();
                }
            }
            var longSession = await _backend.CreateSessionAsync(new SessionMetadata("long", "u0") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = int.MaxValue, MaxTokens = int.MaxValue });
            var data = new DataGenerator(256);
            for (var j = 0; j < LongMessages; j += 1_000)
            {
                var batch = data.MixedBatch(j, 1_000);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Timestamp = t0.AddSeconds(j + i);
                }
                await longSession.AddMessagesAsync(batch);
            }
            await _backend.DisposeAsync();
            Directory.CreateDirectory(Path.Combine(dir, "done"));
            _backend = new EngineBackend(new EngineOptions { Path = dir, Durability = DurabilityMode.None });
            await _backend.ConnectAsync();
        }
        _long = (await _backend.GetSessionAsync("long"))!;
        _mid = t0.AddSeconds(LongMessages / 2);
        _ = await _long.GetMessagesAsync(50, _mid, [MessageRole.User, MessageRole.Assistant]);
        Console.WriteLine($"// managed heap after setup: {GC.GetTotalMemory(forceFullCollection: true) / 1e6:0.0} MB");
    }

    /// <summary>Closes the store (kept for the next run of this build).</summary>
    [GlobalCleanup]
    public async Task Cleanup() => await _backend.DisposeAsync();

    /// <summary>The newest 20 sessions of one of 1,000 users (1,000 sessions each).</summary>
    [Benchmark]
    public async Task<int> UserNewest20() => (await _backend.ListSessionsAsync(userId: $"u{_next++ % Users}", limit: 20)).Count;

    /// <summary>The newest 20 archived sessions (1% of the store).</summary>
    [Benchmark]
    public async Task<int> ArchivedNewest20() => (await _backend.ListSessionsAsync(status: SessionStatus.Archived, limit: 20)).Count;

    /// <summary>The newest 50 user and assistant messages since mid-session, of 100,000.</summary>
    [Benchmark]
    public async Task<int> RolesSinceNewest50() => (await _long.GetMessagesAsync(50, _mid, [MessageRole.User, MessageRole.Assistant])).Count;
}
