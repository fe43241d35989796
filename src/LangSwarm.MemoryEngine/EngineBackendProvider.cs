using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine;

/// <summary>Makes <see cref="EngineBackend"/>s from configuration (<c>path</c>, <c>durability</c>, ...).</summary>
public sealed class EngineBackendProvider : IMemoryBackendProvider
{
    private static readonly string[] Valid = ["path", "durability", "batched_interval_ms", "segment_max_bytes", "checkpoint_log_bytes", "checkpoint_records", "index_cache_mb", "auto_vacuum_dead_percent", "auto_vacuum_interval_ms", "auto_vacuum_idle_ms", "max_loaded_sessions", "session_cache_mb", "pack_below_kb", "pack_idle_minutes", "read_only", .. RetentionPolicy.OptionNames];

    /// <inheritdoc />
    public string Name => EngineBackend.BackendName;

    /// <inheritdoc />
    public IReadOnlyCollection<string> Aliases => ["memory_engine", "lsmem"];

    /// <inheritdoc />
    public string Description => "The embedded log-structured engine: checksummed per-session segments and a copy-on-write B+tree index, crash-safe, no server.";

    /// <summary>The default store directory: <c>$LSMEM_STORE</c>, else the user's local data folder.</summary>
    public static string DefaultPath() =>
        Environment.GetEnvironmentVariable("LSMEM_STORE") is { Length: > 0 } env
            ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "langswarm", "memory");

    /// <inheritdoc />
    public IMemoryBackend Create(BackendSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.EnsureOnly(Name, Valid);
        TimeSpan? idle = settings.Contains("auto_vacuum_idle_ms") ? TimeSpan.FromMilliseconds(settings.GetInt("auto_vacuum_idle_ms", 60_000, 1, int.MaxValue)) : null;
        // 0 turns the fixed interval off, which only makes sense when the idle trigger is there instead.
        var interval = settings.GetInt("auto_vacuum_interval_ms", 60_000, idle is null ? 10 : 0, int.MaxValue);
        return new EngineBackend(new EngineOptions
        {
            Path = settings.GetString("path") ?? DefaultPath(),
            Durability = settings.GetEnum("durability", DurabilityMode.Strict),
            BatchedInterval = TimeSpan.FromMilliseconds(settings.GetInt("batched_interval_ms", 200, 1, 60_000)),
            SegmentMaxBytes = settings.GetInt("segment_max_bytes", 8 * 1024 * 1024, 64 * 1024, 1 << 30),
            CheckpointLogBytes = settings.GetInt("checkpoint_log_bytes", 64 * 1024 * 1024, 64 * 1024, int.MaxValue),
            CheckpointRecords = settings.GetInt("checkpoint_records", 1024 * 1024, 1_024, int.MaxValue),
            IndexCacheBytes = (long)settings.GetInt("index_cache_mb", 4, 0, 1 << 20) << 20,
            AutoVacuumDeadFraction = settings.Contains("auto_vacuum_dead_percent") ? settings.GetInt("auto_vacuum_dead_percent", 25, 0, 100) / 100.0 : null,
            AutoVacuumInterval = interval == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(interval),
            AutoVacuumWhenIdleFor = idle,
            MaxLoadedSessions = settings.GetInt("max_loaded_sessions", 10_000, 0, int.MaxValue),
            SessionCacheBytes = (long)settings.GetInt("session_cache_mb", 16, 0, 1 << 20) << 20,
            PackSessionsBelowBytes = (long)settings.GetInt("pack_below_kb", 64, 0, 1 << 20) << 10,
            PackSessionsIdleFor = TimeSpan.FromMinutes(settings.GetInt("pack_idle_minutes", 10, 0, int.MaxValue)),
            ReadOnly = settings.GetBool("read_only", false),
        })
        {
            Retention = RetentionPolicy.FromSettings(settings),
        };
    }
}
