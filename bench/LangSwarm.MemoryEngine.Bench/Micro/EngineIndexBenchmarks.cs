using BenchmarkDotNet.Attributes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench.Micro;

/// <summary>
/// Engine index lookups through the public API on a pre-filled store (1,000 sessions; one of 1,000 messages):
/// session point lookup, a newest-50 range read, and an 8,000-token context.
/// </summary>
[MemoryDiagnoser]
public class EngineIndexBenchmarks
{
    private string _dir = string.Empty;
    private EngineBackend _backend = null!;
    private IMemorySession _long = null!;
    private int _next;

    /// <summary>Fills the store.</summary>
    [GlobalSetup]
    public async Task Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"lsmem-micro-{Environment.ProcessId}");
        _backend = new EngineBackend(new EngineOptions { Path = _dir, Durability = DurabilityMode.None });
        await _backend.ConnectAsync();
        var data = new DataGenerator(256);
        for (var k = 0; k < 1_000; k++)
        {
            var s = await _backend.CreateSessionAsync(Backends.Session($"s-{k}", $"u{k % 20}"));
            await s.AddMessagesAsync(data.MixedBatch(k * 3L, 3));
        }
        _long = await _backend.CreateSessionAsync(Backends.Session("long", "u0"));
        for (var j = 0; j < 1_000; j += 100)
        {
            await _long.AddMessagesAsync(data.MixedBatch(j, 100));
        }
    }

    /// <summary>Closes and deletes the store.</summary>
    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _backend.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    /// <summary>GetSessionAsync of one of 1,001 sessions.</summary>
    [Benchmark]
    public async Task<IMemorySession?> PointLookup() => await _backend.GetSessionAsync($"s-{_next++ % 1_000}");

    /// <summary>The newest 50 messages of the 1,000-message session.</summary>
    [Benchmark]
    public async Task<int> RangeNewest50() => (await _long.GetMessagesAsync(50)).Count;

    /// <summary>An 8,000-token context of the 1,000-message session.</summary>
    [Benchmark]
    public async Task<int> Context8000() => (await _long.GetConversationContextAsync(8000)).Count;
}
