using LangSwarm.Memory;
using LangSwarm.Memory.Conformance;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>The engine (Strict) against the shared conformance suite; reopen is a new backend over the same directory.</summary>
public sealed class EngineConformanceTests : BackendConformanceTests, IDisposable
{
    private readonly TempStore _dir = new();

    protected override Task<IMemoryBackend> CreateBackendAsync() => Task.FromResult<IMemoryBackend>(new EngineBackend(_dir.Path));

    protected override async Task<IMemoryBackend> ReopenAsync(IMemoryBackend backend)
    {
        await backend.DisposeAsync();
        var reopened = new EngineBackend(_dir.Path);
        await reopened.ConnectAsync();
        return reopened;
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>The engine without fsync, with tiny segments and checkpoints, so rolling and checkpointing run under the suite too.</summary>
public sealed class EngineSmallSegmentsConformanceTests : BackendConformanceTests, IDisposable
{
    private readonly TempStore _dir = new();

    private EngineBackend Make() => new(new EngineOptions
    {
        Path = _dir.Path,
        Durability = DurabilityMode.None,
        SegmentMaxBytes = 2048,
        CheckpointLogBytes = 16 * 1024,
    });

    protected override Task<IMemoryBackend> CreateBackendAsync() => Task.FromResult<IMemoryBackend>(Make());

    protected override async Task<IMemoryBackend> ReopenAsync(IMemoryBackend backend)
    {
        await backend.DisposeAsync();
        var reopened = Make();
        await reopened.ConnectAsync();
        return reopened;
    }

    public void Dispose() => _dir.Dispose();
}
