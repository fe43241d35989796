using LangSwarm.Memory;
using LangSwarm.Memory.Conformance;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>The engine's session store (Strict) against the storage contract; reopen is a new store over the same directory.</summary>
public sealed class EngineSessionStoreContractTests : SessionStoreContractTests, IDisposable
{
    private readonly TempStore _dir = new();

    protected override ISessionStore CreateStore() => new EngineSessionStore(new EngineOptions { Path = _dir.Path });

    protected override ISessionStore? ReopenStore() => CreateStore();

    public void Dispose() => _dir.Dispose();
}

/// <summary>The engine's session store without fsync, with tiny segments and checkpoints, against the storage contract.</summary>
public sealed class EngineSessionStoreSmallSegmentsContractTests : SessionStoreContractTests, IDisposable
{
    private readonly TempStore _dir = new();

    protected override ISessionStore CreateStore() => new EngineSessionStore(new EngineOptions
    {
        Path = _dir.Path,
        Durability = DurabilityMode.None,
        SegmentMaxBytes = 2048,
        CheckpointLogBytes = 16 * 1024,
    });

    protected override ISessionStore? ReopenStore() => CreateStore();

    public void Dispose() => _dir.Dispose();
}
