using System.Globalization;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// Stores sessions in Redis: one hash per session (metadata, counters, UTC-tick timestamps), a sorted set of message
/// JSON and a sorted set of compact message facts, both scored by sequence, and a list of summaries. Global sorted
/// sets index sessions by activity time, by user and by status, so listing and clean-up never scan the keyspace.
/// </summary>
/// <remarks>
/// <para>Every change that touches more than one key runs as one Lua script (<see cref="RedisScripts"/>), atomic on a
/// single Redis node. A session's keys share a Cluster hash slot, but the global indexes do not, so the backend needs
/// a single primary (standalone, replicated or Sentinel); Redis Cluster rejects the scripts with <c>CROSSSLOT</c>.</para>
/// <para>With <see cref="RedisBackendOptions.TtlSeconds"/> set, every key of a session carries the TTL, renewed on each
/// write. Index entries of expired sessions are removed lazily, when listing, clean-up or statistics meet them.</para>
/// <para>When the server goes away, calls fail at once with <see cref="BackendUnavailableException"/> (nothing is queued);
/// the connection is re-established in the background and the same instance works again once the server is back.</para>
/// <para>Writes to one session are ordered by the base class's in-process lock; a second process writing the same session
/// at the same moment is detected (the stored last sequence no longer matches) and reported as a <see cref="MemoryException"/>.</para>
/// </remarks>
public sealed class RedisBackend : MemoryBackendBase
{
    /// <summary>The registered name.</summary>
    public const string BackendName = "redis";

    private const int ReadChunk = 256;
    private const int IndexChunk = 512;
    private const int MaxRunsPerRoundTrip = 32;

    private readonly RedisBackendOptions _options;
    private readonly RedisKeys _keys;
    private readonly long _ttlMs;
    private ConnectionMultiplexer? _mux;
    private IDatabase? _db;

    /// <summary>Creates an unconnected backend.</summary>
    /// <exception cref="MemoryConfigurationException">The options cannot work.</exception>
    public RedisBackend(RedisBackendOptions? options = null)
        : base((options ?? new RedisBackendOptions()).TokenCounter, (options ?? new RedisBackendOptions()).Summarizer)
    {
        _options = options ?? new RedisBackendOptions();
        _options.Validate();
        _keys = new RedisKeys(_options.KeyPrefix);
        _ttlMs = _options.TtlSeconds is > 0 and var t ? t * 1000L : 0;
    }

    /// <inheritdoc />
    public override string Name => BackendName;

    /// <summary>The options this backend was made with.</summary>
    public RedisBackendOptions Options => _options;

    /// <summary>Where the backend connects, for messages.</summary>
    public string Endpoint => string.IsNullOrWhiteSpace(_options.ConnectionString)
        ? $"{_options.Host}:{_options.Port.ToString(CultureInfo.InvariantCulture)}"
        : RedactedConnectionString();

    /// <summary>How the sessions stand against their TTL: expiring within 1 h, within 24 h, and without TTL.</summary>
    public async Task<TtlStats> GetTtlStatsAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        long total = 0, hour = 0, day = 0, none = 0;
        var ghosts = new List<string>();
        await foreach (var ids in IndexChunksAsync(_keys.TimeIndex, cancellationToken).ConfigureAwait(false))
        {
            var ttls = await Guard(db => Task.WhenAll(ids.Select(id => db.ExecuteAsync("PTTL", (RedisKey)_keys.Meta(id))))).ConfigureAwait(false);
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
        await PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        return new TtlStats { TotalSessions = total, Expiring1h = hour, Expiring24h = day, WithoutTtl = none, TtlSeconds = _ttlMs / 1000 };
    }

    // ---- connection -----------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override async Task OpenStoreAsync(CancellationToken cancellationToken)
    {
        var config = BuildConfiguration();
        ConnectionMultiplexer mux;
        try
        {
            mux = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or System.Net.Sockets.SocketException)
        {
            RecordError(ex.Message);
            throw new BackendUnavailableException($"Could not connect to Redis at {Endpoint}: {ex.Message}", ex);
        }
        try
        {
            var db = mux.GetDatabase(config.DefaultDatabase ?? _options.Db);
            await db.PingAsync().ConfigureAwait(false);
            _db = db;
            _mux = mux;
        }
        catch (Exception ex)
        {
            await mux.DisposeAsync().ConfigureAwait(false);
            RecordError(ex.Message);
            throw new BackendUnavailableException($"Connected to Redis at {Endpoint} but it does not answer: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    protected override async Task CloseStoreAsync(CancellationToken cancellationToken)
    {
        var mux = _mux;
        _mux = null;
        _db = null;
        if (mux is not null)
        {
            try
            {
                await mux.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
            }
            finally
            {
                await mux.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken)
    {
        await Guard(db => db.PingAsync()).ConfigureAwait(false);
        return [];
    }

    // ---- sessions -------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override async Task<bool> TryCreateSessionAsync(SessionState state, CancellationToken cancellationToken)
    {
        var result = await WriteAsync("create", state, null, null, null, null).ConfigureAwait(false);
        return result == RedisScripts.Ok;
    }

    /// <inheritdoc />
    protected override async Task<SessionState?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var entries = await Guard(db => db.HashGetAllAsync(_keys.Meta(sessionId))).ConfigureAwait(false);
        return RedisMapping.StateFromHash(entries);
    }

    /// <inheritdoc />
    protected override Task SaveSessionAsync(SessionState state, CancellationToken cancellationToken) =>
        UpdateAsync(state, null, null, null, null);

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        var index = query.UserId is not null ? _keys.UserIndex(query.UserId)
            : query.Status is { } s ? _keys.StatusIndex(s)
            : _keys.TimeIndex;
        var need = (long)query.Offset + query.Limit;
        var batch = (int)Math.Clamp(need, 16, IndexChunk);
        var matched = new List<SessionMetadata>();
        var ghosts = new List<string>();
        long rank = 0;
        double? boundary = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = rank;
            var entries = await Guard(db => db.SortedSetRangeByRankWithScoresAsync(index, start, start + batch - 1, Order.Descending)).ConfigureAwait(false);
            if (entries.Length == 0)
            {
                break;
            }
            rank += entries.Length;
            var states = await Guard(db => Task.WhenAll(entries.Select(e => db.HashGetAllAsync(_keys.Meta((string)e.Element!))))).ConfigureAwait(false);
            var done = false;
            for (var i = 0; i < entries.Length; i++)
            {
                if (boundary is { } b && entries[i].Score < b)
                {
                    done = true;
                    break;
                }
                var state = RedisMapping.StateFromHash(states[i]);
                if (state is null)
                {
                    ghosts.Add((string)entries[i].Element!);
                    continue;
                }
                if (query.Matches(state.Metadata))
                {
                    matched.Add(state.Metadata);
                    if (boundary is null && matched.Count >= need)
                    {
                        // Scores are whole milliseconds: keep reading everything with this score so ties sort exactly.
                        boundary = entries[i].Score;
                    }
                }
            }
            if (done || entries.Length < batch)
            {
                break;
            }
        }
        await PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        matched.Sort(SessionQuery.Compare);
        return matched.Skip(query.Offset).Take(query.Limit).ToList();
    }

    /// <inheritdoc />
    protected override async Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        await RemoveAsync(sessionId, ghostOnly: false).ConfigureAwait(false) == "deleted";

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // Scores are floored milliseconds, so "score <= floor(cutoff)" is a superset; the hash decides exactly.
        var max = RedisMapping.Score(cutoff);
        var ids = new List<string>();
        var ghosts = new List<string>();
        long skip = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var from = skip;
            var chunk = await Guard(db => db.SortedSetRangeByScoreAsync(_keys.TimeIndex, double.NegativeInfinity, max, Exclude.None, Order.Ascending, from, IndexChunk)).ConfigureAwait(false);
            if (chunk.Length == 0)
            {
                break;
            }
            skip += chunk.Length;
            var updated = await Guard(db => Task.WhenAll(chunk.Select(id => db.HashGetAsync(_keys.Meta((string)id!), RedisMapping.FUpdatedAt)))).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                var id = (string)chunk[i]!;
                if (updated[i].IsNull)
                {
                    ghosts.Add(id);
                }
                else if ((long)updated[i] < cutoff.UtcTicks)
                {
                    ids.Add(id);
                }
            }
            if (chunk.Length < IndexChunk)
            {
                break;
            }
        }
        await PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        return ids;
    }

    // ---- messages -------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override Task AppendMessagesAsync(SessionState state, IReadOnlyList<Message> messages, CancellationToken cancellationToken) =>
        UpdateAsync(state, messages, null, null, state.LastSequence - messages.Count);

    /// <inheritdoc />
    protected override async IAsyncEnumerable<Message> ReadMessagesAsync(string sessionId, MessageQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (query.Since is null && query.Roles is null)
        {
            var key = _keys.Messages(sessionId);
            var from = query.FromSequence;
            while (from <= query.ToSequence)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var start = from;
                var chunk = await Guard(db => db.SortedSetRangeByScoreAsync(key, start, query.ToSequence, Exclude.None, Order.Ascending, 0, ReadChunk)).ConfigureAwait(false);
                foreach (var v in chunk)
                {
                    var m = RedisMapping.MessageFromJson(v);
                    from = m.Sequence + 1;
                    yield return m;
                }
                if (chunk.Length < ReadChunk)
                {
                    yield break;
                }
            }
            yield break;
        }

        var infos = await ReadInfosAsync(sessionId, query.FromSequence, query.ToSequence).ConfigureAwait(false);
        var wanted = new List<int>();
        for (var i = 0; i < infos.Count; i++)
        {
            if (query.Matches(infos[i].Sequence, infos[i].Timestamp, infos[i].Role))
            {
                wanted.Add(i);
            }
        }
        await foreach (var m in FetchPositionsAsync(sessionId, infos, wanted, cancellationToken).ConfigureAwait(false))
        {
            yield return m;
        }
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(string sessionId, MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0)
        {
            return [];
        }
        if (query.Since is null && query.Roles is null)
        {
            var newest = await Guard(db => db.SortedSetRangeByScoreAsync(_keys.Messages(sessionId), query.FromSequence, query.ToSequence, Exclude.None, Order.Descending, 0, limit)).ConfigureAwait(false);
            var list = new Message[newest.Length];
            for (var i = 0; i < newest.Length; i++)
            {
                list[newest.Length - 1 - i] = RedisMapping.MessageFromJson(newest[i]);
            }
            return list;
        }
        var infos = await ReadInfosAsync(sessionId, query.FromSequence, query.ToSequence).ConfigureAwait(false);
        var wanted = new List<int>();
        for (var i = infos.Count - 1; i >= 0 && wanted.Count < limit; i--)
        {
            if (query.Matches(infos[i].Sequence, infos[i].Timestamp, infos[i].Role))
            {
                wanted.Add(i);
            }
        }
        wanted.Reverse();
        return await ToListAsync(FetchPositionsAsync(sessionId, infos, wanted, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(string sessionId, CancellationToken cancellationToken) =>
        ReadInfosAsync(sessionId, 0, long.MaxValue);

    /// <inheritdoc />
    protected override Task RemoveMessagesAsync(SessionState state, IReadOnlyList<long> sequences, CancellationToken cancellationToken) =>
        UpdateAsync(state, null, sequences, null, null);

    // ---- summaries ------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override Task AppendSummaryAsync(SessionState state, ConversationSummary summary, CancellationToken cancellationToken) =>
        UpdateAsync(state, null, null, summary, null);

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(string sessionId, CancellationToken cancellationToken)
    {
        var values = await Guard(db => db.ListRangeAsync(_keys.Summaries(sessionId))).ConfigureAwait(false);
        return values.Select(RedisMapping.SummaryFromJson).ToList();
    }

    // ---- statistics -----------------------------------------------------------------------------------------

    /// <summary>
    /// Counts come from the time index (each member's hash is checked, so expired sessions are not counted and are
    /// purged). <see cref="UsageStats.StorageBytes"/> is the sum of <c>MEMORY USAGE</c> over every session key plus the
    /// time, status and owner indexes (per-user indexes are not included); where the server refuses <c>MEMORY USAGE</c>
    /// (some managed services do), it falls back to <c>INFO memory</c> <c>used_memory</c>, the whole server's figure.
    /// <see cref="UsageStats.Extra"/> says which (<c>storage_bytes_source</c>).
    /// </summary>
    protected override async Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken)
    {
        long sessions = 0, active = 0, archived = 0, messages = 0, summaries = 0, bytes = 0;
        var memoryUsage = true;
        var ghosts = new List<string>();
        await foreach (var ids in IndexChunksAsync(_keys.TimeIndex, cancellationToken).ConfigureAwait(false))
        {
            var statuses = Guard(db => Task.WhenAll(ids.Select(id => db.HashGetAsync(_keys.Meta(id), RedisMapping.FStatus))));
            var counts = Guard(db => Task.WhenAll(ids.Select(id => db.SortedSetLengthAsync(_keys.Messages(id)))));
            var sums = Guard(db => Task.WhenAll(ids.Select(id => db.ListLengthAsync(_keys.Summaries(id)))));
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
        await PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        if (memoryUsage)
        {
            bytes += await MemoryUsageAsync([_keys.TimeIndex, _keys.Owners, .. _keys.StatusIndexes()]).ConfigureAwait(false) ?? 0;
        }
        else
        {
            bytes = await UsedMemoryAsync().ConfigureAwait(false);
        }
        return new UsageStats
        {
            Backend = Name,
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
                ["endpoint"] = Endpoint,
            },
        };
    }

    // ---- internals ------------------------------------------------------------------------------------------

    private async Task UpdateAsync(SessionState state, IReadOnlyList<Message>? add, IReadOnlyList<long>? remove, ConversationSummary? summary, long? expectLastSequence)
    {
        var result = await WriteAsync("update", state, add, remove, summary, expectLastSequence).ConfigureAwait(false);
        switch (result)
        {
            case RedisScripts.Ok:
                return;
            case RedisScripts.Missing:
                throw new SessionNotFoundException(state.Metadata.SessionId);
            case RedisScripts.Conflict:
                throw new MemoryException(
                    $"Session '{state.Metadata.SessionId}' was changed by another writer (another process on the same Redis namespace); nothing was stored. Retry the operation.");
            default:
                throw new MemoryException($"Unexpected answer '{result}' from the Redis write script.");
        }
    }

    private async Task<string> WriteAsync(string mode, SessionState state, IReadOnlyList<Message>? add, IReadOnlyList<long>? remove, ConversationSummary? summary, long? expectLastSequence)
    {
        var m = state.Metadata;
        var id = m.SessionId;
        var marker = RedisKeys.OwnerMarker(m.UserId);
        var fields = RedisMapping.StateFields(state);
        var payload = new List<RedisValue>(fields.Count + 8 + ((add?.Count ?? 0) * 3) + (remove?.Count ?? 0));
        payload.Add(fields.Count / 2);
        payload.AddRange(fields);
        payload.Add(add?.Count ?? 0);
        foreach (var msg in add ?? [])
        {
            payload.Add(msg.Sequence);
            payload.Add(RedisMapping.MessageToJson(msg));
            payload.Add(RedisMapping.InfoMember(msg));
        }
        payload.Add(remove?.Count ?? 0);
        foreach (var seq in remove ?? [])
        {
            payload.Add(seq);
        }
        payload.Add(summary is null ? 0 : 1);
        if (summary is not null)
        {
            payload.Add(RedisMapping.SummaryToJson(summary));
        }

        var expected = marker;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            RedisKey[] keys = [.. _keys.SessionKeys(id), _keys.TimeIndex, .. _keys.StatusIndexes(), _keys.Owners, _keys.UserIndex(m.UserId), _keys.UserIndexForMarker(expected)];
            RedisValue[] args =
            [
                mode, id, RedisMapping.Score(m.UpdatedAt), _ttlMs, (int)m.Status, marker, expected,
                expectLastSequence is { } e ? e : RedisValue.EmptyString,
                .. payload,
            ];
            var result = (string)(await Guard(db => db.ScriptEvaluateAsync(RedisScripts.WriteSession, keys, args)).ConfigureAwait(false))!;
            if (!result.StartsWith(RedisScripts.RetryPrefix, StringComparison.Ordinal))
            {
                return result;
            }
            expected = result[RedisScripts.RetryPrefix.Length..];
        }
        throw new MemoryException($"Session '{id}' kept changing owner while being written; nothing was stored.");
    }

    private async Task<string> RemoveAsync(string sessionId, bool ghostOnly)
    {
        var meta = _keys.Meta(sessionId);
        var owner = await Guard(db => db.HashGetAsync(meta, RedisMapping.FOwner)).ConfigureAwait(false);
        if (owner.IsNull)
        {
            owner = await Guard(db => db.HashGetAsync(_keys.Owners, sessionId)).ConfigureAwait(false);
        }
        var expected = owner.IsNull ? string.Empty : (string)owner!;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            RedisKey[] keys = [.. _keys.SessionKeys(sessionId), _keys.TimeIndex, .. _keys.StatusIndexes(), _keys.Owners, _keys.UserIndexForMarker(expected)];
            RedisValue[] args = [sessionId, expected, ghostOnly ? "ghost" : "delete"];
            var result = (string)(await Guard(db => db.ScriptEvaluateAsync(RedisScripts.RemoveSession, keys, args)).ConfigureAwait(false))!;
            if (!result.StartsWith(RedisScripts.RetryPrefix, StringComparison.Ordinal))
            {
                return result;
            }
            expected = result[RedisScripts.RetryPrefix.Length..];
        }
        throw new MemoryException($"Session '{sessionId}' kept changing owner while being removed.");
    }

    /// <summary>Takes index entries of expired sessions out of every index (skipping any re-created meanwhile).</summary>
    private async Task PurgeGhostsAsync(List<string> ghosts, CancellationToken cancellationToken)
    {
        foreach (var id in ghosts.Distinct(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await RemoveAsync(id, ghostOnly: true).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<MessageInfo>> ReadInfosAsync(string sessionId, long from, long to)
    {
        var values = await Guard(db => db.SortedSetRangeByScoreAsync(_keys.Infos(sessionId), from, to)).ConfigureAwait(false);
        var infos = new MessageInfo[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            infos[i] = RedisMapping.ParseInfo((string)values[i]!);
        }
        return infos;
    }

    /// <summary>
    /// Fetches the messages at the given positions of <paramref name="infos"/> (ascending), reading each run of adjacent
    /// positions as one score range and pipelining several runs per round trip.
    /// </summary>
    private async IAsyncEnumerable<Message> FetchPositionsAsync(string sessionId, IReadOnlyList<MessageInfo> infos, List<int> positions, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var runs = new List<(long From, long To)>();
        for (var i = 0; i < positions.Count;)
        {
            var j = i;
            while (j + 1 < positions.Count && positions[j + 1] == positions[j] + 1 && j + 1 - i < ReadChunk)
            {
                j++;
            }
            runs.Add((infos[positions[i]].Sequence, infos[positions[j]].Sequence));
            i = j + 1;
        }
        var key = _keys.Messages(sessionId);
        for (var r = 0; r < runs.Count; r += MaxRunsPerRoundTrip)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var group = runs.Skip(r).Take(MaxRunsPerRoundTrip).ToList();
            var results = await Guard(db => Task.WhenAll(group.Select(g => db.SortedSetRangeByScoreAsync(key, g.From, g.To)))).ConfigureAwait(false);
            foreach (var values in results)
            {
                foreach (var v in values)
                {
                    yield return RedisMapping.MessageFromJson(v);
                }
            }
        }
    }

    /// <summary>Every member of an index, in chunks, highest score first.</summary>
    private async IAsyncEnumerable<string[]> IndexChunksAsync(RedisKey index, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Chunks are read by score from the bottom up, so entries purged between chunks never shift the next chunk.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        double min = double.NegativeInfinity;
        var exclude = Exclude.None;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lo = min;
            var ex = exclude;
            var chunk = await Guard(db => db.SortedSetRangeByScoreWithScoresAsync(index, lo, double.PositiveInfinity, ex, Order.Ascending, 0, IndexChunk)).ConfigureAwait(false);
            var ids = chunk.Select(e => (string)e.Element!).Where(seen.Add).ToArray();
            if (ids.Length > 0)
            {
                yield return ids;
            }
            if (chunk.Length < IndexChunk)
            {
                yield break;
            }
            var last = chunk[^1].Score;
            if (chunk[0].Score == last)
            {
                // A whole chunk with one score: read that score completely, then move past it.
                var same = await Guard(db => db.SortedSetRangeByScoreAsync(index, last, last)).ConfigureAwait(false);
                var rest = same.Select(v => (string)v!).Where(seen.Add).ToArray();
                if (rest.Length > 0)
                {
                    yield return rest;
                }
                min = last;
                exclude = Exclude.Start;
            }
            else
            {
                // Re-read the last score from its start next time; 'seen' drops the repeats.
                min = last;
                exclude = Exclude.None;
            }
        }
    }

    private async Task<long?> MemoryUsageAsync(IEnumerable<RedisKey> keys)
    {
        try
        {
            var results = await Guard(db => Task.WhenAll(keys.Select(k => db.ExecuteAsync("MEMORY", "USAGE", k)))).ConfigureAwait(false);
            return results.Sum(r => r.IsNull ? 0L : (long)r);
        }
        catch (RedisServerException)
        {
            return null;
        }
    }

    private async Task<long> UsedMemoryAsync()
    {
        var mux = _mux ?? throw NotConnected();
        var server = mux.GetServer(mux.GetEndPoints()[0]);
        var info = await Guard(_ => server.InfoAsync("memory")).ConfigureAwait(false);
        foreach (var group in info)
        {
            foreach (var (k, v) in group)
            {
                if (k == "used_memory" && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var used))
                {
                    return used;
                }
            }
        }
        return 0;
    }

    /// <summary>Runs a Redis call, turning connection loss into <see cref="BackendUnavailableException"/>.</summary>
    private async Task<T> Guard<T>(Func<IDatabase, Task<T>> call)
    {
        var db = _db ?? throw NotConnected();
        try
        {
            return await call(db).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or ObjectDisposedException)
        {
            RecordError(ex.Message);
            throw new BackendUnavailableException($"Redis at {Endpoint} is unavailable: {ex.Message}", ex);
        }
    }

    private BackendUnavailableException NotConnected() =>
        new($"Backend '{Name}' is not connected to Redis at {Endpoint}; call ConnectAsync first.");

    private ConfigurationOptions BuildConfiguration()
    {
        var config = string.IsNullOrWhiteSpace(_options.ConnectionString)
            ? new ConfigurationOptions { EndPoints = { { _options.Host, _options.Port } } }
            : ConfigurationOptions.Parse(_options.ConnectionString);
        if (config.Password is null && _options.Password is not null)
        {
            config.Password = _options.Password;
        }
        config.DefaultDatabase ??= _options.Db;
        if (_options.UseTls)
        {
            config.Ssl = true;
        }
        config.AbortOnConnectFail = true;
        // While the server is away, fail commands at once (BackendUnavailableException) instead of queueing them
        // until they time out, and try to reconnect soon: a restarted server is back in use within a second or two.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy = new ExponentialRetry(250, 2000);
        config.ConnectTimeout = _options.ConnectTimeoutSeconds * 1000;
        config.ClientName ??= "langswarm-memory";
        return config;
    }

    private string RedactedConnectionString()
    {
        try
        {
            return string.Join(",", ConfigurationOptions.Parse(_options.ConnectionString!).EndPoints.Select(e => e switch
            {
                System.Net.DnsEndPoint d => $"{d.Host}:{d.Port.ToString(CultureInfo.InvariantCulture)}",
                _ => e.ToString(),
            }));
        }
        catch (ArgumentException)
        {
            return "(unparsable connection string)";
        }
    }
}
