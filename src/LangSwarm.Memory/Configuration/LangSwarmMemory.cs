namespace LangSwarm.Memory;

/// <summary>
/// The seed's module-level functions: <c>initialize_memory</c>, <c>create_memory_manager</c> and the global
/// manager (<c>setup_global_memory</c>, <c>get_global_memory_manager</c>, <c>shutdown_global_memory</c>).
/// </summary>
public static class LangSwarmMemory
{
    private static readonly SemaphoreSlim GlobalLock = new(1, 1);
    private static IMemoryManager? _global;

    /// <summary>Pattern 1: <c>true</c> gives a development (in-memory) manager; <c>false</c> gives none.</summary>
    public static IMemoryManager? InitializeMemory(bool memory) =>
        memory ? MemoryFactory.Default.CreateManager(MemoryConfiguration.FromBool(true)) : null;

    /// <summary>Patterns 2 and 3: a preset or a backend name (with that backend's defaults).</summary>
    public static IMemoryManager InitializeMemory(string memory) =>
        MemoryFactory.Default.CreateManager(MemoryConfiguration.FromString(memory));

    /// <summary>Pattern 4: <c>{"backend": ..., "config": {...}}</c>.</summary>
    public static IMemoryManager InitializeMemory(IReadOnlyDictionary<string, object?> memory) =>
        MemoryFactory.Default.CreateManager(MemoryConfiguration.FromDictionary(memory));

    /// <summary>Pattern 4 with a typed configuration.</summary>
    public static IMemoryManager InitializeMemory(MemoryConfiguration memory) => MemoryFactory.Default.CreateManager(memory);

    /// <summary>Pattern 5: a manager for a backend name with its options (<c>host</c>, <c>port</c>, <c>db_path</c>, ...).</summary>
    public static IMemoryManager CreateMemoryManager(string backend, IReadOnlyDictionary<string, object?>? options = null) =>
        MemoryFactory.Default.CreateManager(new MemoryConfiguration(backend, new BackendSettings(options)));

    /// <summary>Sets up the process-wide manager and connects it (replacing and shutting down any earlier one).</summary>
    public static Task<IMemoryManager> SetupGlobalMemoryAsync(string memory = "development", CancellationToken cancellationToken = default) =>
        SetupGlobalMemoryAsync(MemoryConfiguration.FromString(memory), cancellationToken);

    /// <summary>Sets up the process-wide manager from a configuration.</summary>
    public static async Task<IMemoryManager> SetupGlobalMemoryAsync(MemoryConfiguration memory, CancellationToken cancellationToken = default)
    {
        var manager = await MemoryFactory.Default.CreateManagerAsync(memory, cancellationToken).ConfigureAwait(false);
        return await SetGlobalAsync(manager, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uses an existing manager as the process-wide one.</summary>
    public static async Task<IMemoryManager> SetGlobalAsync(IMemoryManager manager, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manager);
        IMemoryManager? old;
        await GlobalLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            old = _global;
            _global = manager;
        }
        finally
        {
            GlobalLock.Release();
        }
        if (old is not null && !ReferenceEquals(old, manager))
        {
            await old.ShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        return manager;
    }

    /// <summary>The process-wide manager.</summary>
    /// <exception cref="MemoryConfigurationException">No global manager was set up.</exception>
    public static IMemoryManager GetGlobalMemoryManager() =>
        _global ?? throw new MemoryConfigurationException("No global memory manager; call LangSwarmMemory.SetupGlobalMemoryAsync first.");

    /// <summary>The process-wide manager, or null.</summary>
    public static IMemoryManager? TryGetGlobalMemoryManager() => _global;

    /// <summary>Shuts down and clears the process-wide manager. Idempotent.</summary>
    public static async Task ShutdownGlobalMemoryAsync(CancellationToken cancellationToken = default)
    {
        IMemoryManager? old;
        await GlobalLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            old = _global;
            _global = null;
        }
        finally
        {
            GlobalLock.Release();
        }
        if (old is not null)
        {
            await old.ShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
