using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// Usage and TTL figures of a namespace, counted from the time index (each member's hash is checked, so expired
/// sessions are not counted, and are purged from the indexes on the way).
/// </summary>
internal sealed class RedisUsage
{
    private readonly RedisConnection _connection;
    private readonly RedisKeys _keys;
    private readonly RedisIndexes _indexes;
    private readonly RedisIndexReader _reader;
    private readonly RedisBackendOptions _options;
    private readonly long _ttlMs;

    /// <summary>Creates the figures of a namespace.</summary>
    public RedisUsage(RedisConnection connection, RedisKeys keys, RedisIndexes indexes, RedisIndexReader reader, RedisBackendOptions options, long ttlMs)
    {
        _reader = reader;
        _connection = connection;
        _keys = keys;
        _indexes = indexes;
        _options = options;
        _ttlMs = ttlMs;
    }

    /// <summary>
    /// Counts sessions, messages and summaries. <see cref="UsageStats.StorageBytes"/> is the sum of <c>MEMORY USAGE</c>
    /// over every session key plus the time and status index shards and the registry (per-user indexes are not
    /// included); where the
    /// server refuses <c>MEMORY USAGE</c> (some managed services do), it falls back to <c>INFO memory</c>
    /// <c>used_memory</c> summed over the primaries, the whole servers' figure. <see cref="UsageStats.Extra"/> says which (<c>storage_bytes_source</c>).
    /// </summary>
    public async Task<UsageStats> ComputeAsync(CancellationToken cancellationToken)
    {
        long sessions = 0, active = 0, archived = 0, messages = 0, summaries = 0, bytes = 0;
        var memoryUsage = true;
        var ghosts = new List<string>();
        await foreach (var ids in _reader.ChunksAsync(_keys.TimeIndexes, cancellationToken).ConfigureAwait(false))
        {
            var statuses = _connection.Guard(db => Task.WhenAll(ids.Select(id => db.HashGetAsync(_keys.Meta(id), RedisMapping.FStatus))));
            var counts = _connection.Guard(db => Task.WhenAll(ids.Select(id => db.SortedSetLengthAsync(_keys.Infos(id)))));
            var sums = _connection.Guard(db => Task.WhenAll(ids.Select(id => db.ListLengthAsync(_keys.Summaries(id)))));
            var status = await statuses.ConfigureAwait(false);
            var count = await counts.ConfigureAwait(false);
            var sum = await sums.ConfigureAwait(false);
            var alive = new List<string>(ids.Length);
            for (var i = 0; i < ids.Length; i++)
            {
                if (status[i].IsNull)
                {
                    ghosts.Add(ids[i]);
                    continue;
                }
                alive.Add(ids[i]);
                sessions++;
                var st = (SessionStatus)(int)status[i];
                if (st == SessionStatus.Active)
                {
                    active++;
                }
                else if (st == SessionStatus.Archived)
                {
                    archived++;
                }
                messages += count[i];
                summaries += sum[i];
            }
            if (memoryUsage)
            {
                var used = await MemoryUsageAsync(alive.SelectMany(_keys.SessionKeys)).ConfigureAwait(false);
                if (used is null)
                {
                    memoryUsage = false;
                }
                else
                {
                    bytes += used.Value;
                }
            }
        }
        await _indexes.PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        if (memoryUsage)
        {
            bytes += await MemoryUsageAsync(_keys.AllShardKeys()).ConfigureAwait(false) ?? 0;
        }
        else
        {
            bytes = await _connection.UsedMemoryAsync().ConfigureAwait(false);
        }
        return new UsageStats
        {
            Backend = RedisBackend.BackendName,
            TotalSessions = sessions,
            ActiveSessions = active,
            ArchivedSessions = archived,
            TotalMessages = messages,
            TotalSummaries = summaries,
            StorageBytes = bytes,
            Extra = new Dictionary<string, object?>
            {
                ["storage_bytes_source"] = memoryUsage ? "memory_usage" : "info_used_memory",
                ["key_prefix"] = _options.KeyPrefix,
                ["ttl_seconds"] = _ttlMs / 1000,
                ["pool_size"] = _options.PoolSize,
                ["endpoint"] = _connection.Endpoint,
            },
        };
    }

    /// <summary>How the sessions stand against their TTL: expiring within 1 h, within 24 h, and without TTL.</summary>
    public async Task<TtlStats> ComputeTtlAsync(CancellationToken cancellationToken)
    {
        long total = 0, hour = 0, day = 0, none = 0;
        var ghosts = new List<string>();
        await foreach (var ids in _reader.ChunksAsync(_keys.TimeIndexes, cancellationToken).ConfigureAwait(false))
        {
            var ttls = await _connection.Guard(db => Task.WhenAll(ids.Select(id => db.ExecuteAsync("PTTL", (RedisKey)_keys.Meta(id))))).ConfigureAwait(false);
            for (var i = 0; i < ids.Length; i++)
            {
                var ms = (long)ttls[i];
                if (ms == -2)
                {
                    ghosts.Add(ids[i]);
                    continue;
                }
                total++;
                if (ms == -1)
                {
                    none++;
                    continue;
                }
                if (ms <= 3_600_000)
                {
                    hour++;
                }
                if (ms <= 86_400_000)
                {
                    day++;
                }
            }
        }
        await _indexes.PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        return new TtlStats { TotalSessions = total, Expiring1h = hour, Expiring24h = day, WithoutTtl = none, TtlSeconds = _ttlMs / 1000 };
    }

    private async Task<long?> MemoryUsageAsync(IEnumerable<RedisKey> keys)
    {
        try
        {
            var results = await _connection.Guard(db => Task.WhenAll(keys.Select(k => db.ExecuteAsync("MEMORY", "USAGE", k)))).ConfigureAwait(false);
            return results.Sum(r => r.IsNull ? 0L : (long)r);
        }
        catch (RedisServerException)
        {
            return null;
        }
    }
}
