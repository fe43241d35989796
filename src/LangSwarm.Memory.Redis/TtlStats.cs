namespace LangSwarm.Memory.Redis;

/// <summary>How the sessions of a Redis namespace stand against their TTL (<c>get_ttl_stats</c>).</summary>
public sealed record TtlStats
{
    /// <summary>Sessions found.</summary>
    public long TotalSessions { get; init; }

    /// <summary>Sessions whose keys expire within the next hour.</summary>
    public long Expiring1h { get; init; }

    /// <summary>Sessions whose keys expire within the next 24 hours (includes <see cref="Expiring1h"/>).</summary>
    public long Expiring24h { get; init; }

    /// <summary>Sessions without a TTL (the backend runs without expiry, or they were written so).</summary>
    public long WithoutTtl { get; init; }

    /// <summary>The configured TTL in seconds (0: none).</summary>
    public long TtlSeconds { get; init; }

    /// <summary>The seed's dictionary view (<c>expiring_1h</c>, <c>expiring_24h</c>, ...).</summary>
    public IReadOnlyDictionary<string, object?> ToDictionary() => new Dictionary<string, object?>
    {
        ["total_sessions"] = TotalSessions,
        ["expiring_1h"] = Expiring1h,
        ["expiring_24h"] = Expiring24h,
        ["no_ttl"] = WithoutTtl,
        ["ttl_seconds"] = TtlSeconds,
    };
}
