namespace LangSwarm.MemoryEngine.Storage;

/// <summary>When an acknowledged add is safe (see FORMAT.md, "Durability").</summary>
public enum DurabilityMode
{
    /// <summary>An add returns after its bytes are on stable storage (fsync of the commit log, shared by concurrent adds).</summary>
    Strict,

    /// <summary>An add returns after its bytes reach the OS; the log is fsynced at least every <c>BatchedInterval</c>. A power loss may lose that window.</summary>
    Batched,

    /// <summary>An add returns after its bytes reach the OS; fsync only at checkpoints and close. Survives a process crash, not a power loss.</summary>
    None,
}

/// <summary>A durability mode as behaviour: what the commit log does after writing a batch.</summary>
public interface IDurabilityPolicy
{
    /// <summary>The mode this policy implements.</summary>
    DurabilityMode Mode { get; }

    /// <summary>True when a batch is fsynced before its adds are acknowledged.</summary>
    bool SyncBeforeAck { get; }

    /// <summary>Interval of the background fsync, or null for none.</summary>
    TimeSpan? BackgroundSyncInterval { get; }
}

/// <summary>fsync before acknowledging (group commit shares one fsync among every add of a batch).</summary>
public sealed class StrictDurability : IDurabilityPolicy
{
    /// <inheritdoc />
    public DurabilityMode Mode => DurabilityMode.Strict;

    /// <inheritdoc />
    public bool SyncBeforeAck => true;

    /// <inheritdoc />
    public TimeSpan? BackgroundSyncInterval => null;
}

/// <summary>Acknowledge after write; fsync every interval (Redis <c>appendfsync everysec</c>).</summary>
public sealed class BatchedDurability(TimeSpan interval) : IDurabilityPolicy
{
    /// <inheritdoc />
    public DurabilityMode Mode => DurabilityMode.Batched;

    /// <inheritdoc />
    public bool SyncBeforeAck => false;

    /// <inheritdoc />
    public TimeSpan? BackgroundSyncInterval => interval;
}

/// <summary>Acknowledge after write; fsync only at checkpoints and close.</summary>
public sealed class NoDurability : IDurabilityPolicy
{
    /// <inheritdoc />
    public DurabilityMode Mode => DurabilityMode.None;

    /// <inheritdoc />
    public bool SyncBeforeAck => false;

    /// <inheritdoc />
    public TimeSpan? BackgroundSyncInterval => null;
}

/// <summary>Makes the policy of a mode.</summary>
public static class DurabilityPolicies
{
    /// <summary>The policy for <paramref name="mode"/>.</summary>
    public static IDurabilityPolicy For(DurabilityMode mode, TimeSpan batchedInterval) => mode switch
    {
        DurabilityMode.Strict => new StrictDurability(),
        DurabilityMode.Batched => new BatchedDurability(batchedInterval),
        DurabilityMode.None => new NoDurability(),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown durability mode."),
    };
}
