namespace LangSwarm.Memory;

/// <summary>Backend usage statistics (<c>get_usage_stats</c>).</summary>
public sealed record UsageStats
{
    /// <summary>Backend name (<c>in_memory</c>, <c>sqlite</c>, <c>redis</c>, <c>engine</c>).</summary>
    public required string Backend { get; init; }

    /// <summary>Sessions stored.</summary>
    public long TotalSessions { get; init; }

    /// <summary>Sessions per status.</summary>
    public long ActiveSessions { get; init; }

    /// <summary>Archived sessions.</summary>
    public long ArchivedSessions { get; init; }

    /// <summary>Live messages stored.</summary>
    public long TotalMessages { get; init; }

    /// <summary>Summaries stored.</summary>
    public long TotalSummaries { get; init; }

    /// <summary>Bytes the backend occupies (on disk, or in memory for memory backends).</summary>
    public long StorageBytes { get; init; }

    /// <summary>Storage in MiB, as the seed names it.</summary>
    public double StorageSizeMb => Math.Round(StorageBytes / (1024.0 * 1024.0), 3);

    /// <summary>Backend-specific figures (segments, dead bytes, TTL counts, ...).</summary>
    public IReadOnlyDictionary<string, object?> Extra { get; init; } = new Dictionary<string, object?>();

    /// <summary>The seed's dictionary view with its snake_case key names.</summary>
    public IReadOnlyDictionary<string, object?> ToDictionary()
    {
        var d = new Dictionary<string, object?>
        {
            ["backend"] = Backend,
            ["total_sessions"] = TotalSessions,
            ["active_sessions"] = ActiveSessions,
            ["archived_sessions"] = ArchivedSessions,
            ["total_messages"] = TotalMessages,
            ["total_summaries"] = TotalSummaries,
            ["storage_bytes"] = StorageBytes,
            ["storage_size_mb"] = StorageSizeMb,
        };
        foreach (var (k, v) in Extra)
        {
            d[k] = v;
        }
        return d;
    }
}

/// <summary>System-wide statistics (<c>get_system_stats</c>).</summary>
public sealed record SystemStats
{
    /// <summary>The backend's own figures.</summary>
    public required UsageStats Backend { get; init; }

    /// <summary>Active sessions.</summary>
    public long ActiveSessions => Backend.ActiveSessions;

    /// <summary>Archived sessions.</summary>
    public long ArchivedSessions => Backend.ArchivedSessions;

    /// <summary>Average live messages per session.</summary>
    public double AvgMessagesPerSession =>
        Backend.TotalSessions == 0 ? 0 : Math.Round((double)Backend.TotalMessages / Backend.TotalSessions, 2);

    /// <summary>Managed memory of this process in MiB.</summary>
    public double MemoryUsageMb { get; init; }

    /// <summary>Sessions opened through this manager since it started.</summary>
    public long SessionsOpened { get; init; }

    /// <summary>Time since the manager started.</summary>
    public TimeSpan Uptime { get; init; }

    /// <summary>The seed's dictionary view.</summary>
    public IReadOnlyDictionary<string, object?> ToDictionary()
    {
        var d = new Dictionary<string, object?>(Backend.ToDictionary())
        {
            ["active_sessions"] = ActiveSessions,
            ["archived_sessions"] = ArchivedSessions,
            ["avg_messages_per_session"] = AvgMessagesPerSession,
            ["memory_usage_mb"] = MemoryUsageMb,
            ["sessions_opened"] = SessionsOpened,
            ["uptime_seconds"] = Math.Round(Uptime.TotalSeconds, 3),
        };
        return d;
    }
}

/// <summary>Health of a backend.</summary>
public enum HealthStatus
{
    /// <summary>Working.</summary>
    Healthy,
    /// <summary>Working, with a problem that needs attention (e.g. a corrupt record was found and skipped).</summary>
    Degraded,
    /// <summary>Not working.</summary>
    Unhealthy,
}

/// <summary>Result of <c>HealthCheckAsync</c>.</summary>
public sealed record HealthReport
{
    /// <summary>Overall status.</summary>
    public HealthStatus Status { get; init; }

    /// <summary>True when connected to the storage.</summary>
    public bool Connected { get; init; }

    /// <summary>Round-trip time of the probe.</summary>
    public double ResponseTimeMs { get; init; }

    /// <summary>The last error seen, if any.</summary>
    public string? LastError { get; init; }

    /// <summary>Backend name.</summary>
    public string Backend { get; init; } = string.Empty;

    /// <summary>Backend-specific details.</summary>
    public IReadOnlyDictionary<string, object?> Details { get; init; } = new Dictionary<string, object?>();

    /// <summary>The seed's dictionary view (<c>status</c>, <c>connected</c>, <c>response_time_ms</c>, <c>last_error</c>).</summary>
    public IReadOnlyDictionary<string, object?> ToDictionary()
    {
        var d = new Dictionary<string, object?>
        {
            ["status"] = Status.ToString().ToLowerInvariant(),
            ["connected"] = Connected,
            ["response_time_ms"] = ResponseTimeMs,
            ["last_error"] = LastError,
            ["backend"] = Backend,
        };
        foreach (var (k, v) in Details)
        {
            d[k] = v;
        }
        return d;
    }
}
