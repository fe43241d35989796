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

/// <summary>The suite over an engine store opened with the options a variant gives; reopen is a new backend over the same directory.</summary>
public abstract class EngineOptionsConformanceTests : BackendConformanceTests, IDisposable
{
    private readonly TempStore _dir = new();

    /// <summary>The variant's options for the store at <paramref name="path"/>.</summary>
    protected abstract EngineOptions Options(string path);

    protected override Task<IMemoryBackend> CreateBackendAsync() => Task.FromResult<IMemoryBackend>(new EngineBackend(Options(_dir.Path)));

    protected override async Task<IMemoryBackend> ReopenAsync(IMemoryBackend backend)
    {
        await backend.DisposeAsync();
        var reopened = new EngineBackend(Options(_dir.Path));
        await reopened.ConnectAsync();
        return reopened;
    }

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The engine without fsync, with tiny segments and checkpoints, so rolling and checkpointing run under the suite too.</summary>
public sealed class EngineSmallSegmentsConformanceTests : EngineOptionsConformanceTests
{
    protected override EngineOptions Options(string path) => new()
    {
        Path = path,
        Durability = DurabilityMode.None,
        SegmentMaxBytes = 2048,
        CheckpointLogBytes = 16 * 1024,
    };
}
