using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// Listing and clean-up queries over the indexes. Every candidate's session hash decides (the indexes only find
/// candidates), so stale entries never show: entries of gone sessions are purged, entries in the wrong user or
/// status index dropped, and the slack of lazily updated scores (<see cref="RedisIndexes.SlackMs"/>) is read past.
/// </summary>
internal sealed class RedisSessionQueries
{
    private readonly RedisConnection _connection;
    private readonly RedisKeys _keys;
    private readonly RedisIndexes _indexes;
    private readonly RedisIndexReader _reader;

    /// <summary>Creates the queries of a namespace.</summary>
    public RedisSessionQueries(RedisConnection connection, RedisKeys keys, RedisIndexes indexes, RedisIndexReader reader)
    {
        _connection = connection;
        _keys = keys;
        _indexes = indexes;
        _reader = reader;
    }

    /// <summary>Sessions matching the query, in <see cref="SessionQuery.Compare"/> order, paged.</summary>
    public async Task<IReadOnlyList<SessionMetadata>> QueryAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        var userIndex = query.UserId is not null ? _keys.UserIndex(query.UserId) : default;
        IReadOnlyList<RedisKey> shards = query.UserId is not null ? [userIndex]
            : query.Status is { } s ? _keys.StatusIndexes(s)
            : _keys.TimeIndexes;
        var need = (long)query.Offset + query.Limit;
        var batch = (int)Math.Clamp(need, 16, RedisIndexes.Chunk);
        var matched = new List<SessionMetadata>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var ghosts = new List<string>();
        var strays = new List<string>();
        var group = new List<string>(batch);
        long? threshold = null;
        await foreach (var entry in _reader.DescendingAsync(shards, batch, cancellationToken).ConfigureAwait(false))
        {
            // Index scores are within the slack of the stored time: once an entry's score plus the slack is below
            // the need-th newest match, no later entry can be newer than it.
            if (threshold is { } t && entry.Score + RedisIndexes.SlackMs < t)
            {
                break;
            }
            if (seen.Add((string)entry.Element!))
            {
                group.Add((string)entry.Element!);
            }
            if (group.Count == batch)
            {
                threshold = await TakeAsync(group, query, need, matched, ghosts, strays).ConfigureAwait(false);
            }
        }
        await TakeAsync(group, query, need, matched, ghosts, strays).ConfigureAwait(false);
        var gone = await _indexes.PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        if (query.UserId is not null)
        {
            await _indexes.DropFromUserIndexAsync(userIndex, [.. strays, .. gone]).ConfigureAwait(false);
        }
        else if (query.Status is { } status)
        {
            await _indexes.DropFromStatusIndexAsync(status, strays).ConfigureAwait(false);
        }
        matched.Sort(SessionQuery.Compare);
        return matched.Skip(query.Offset).Take(query.Limit).ToList();
    }

    /// <summary>
    /// Ids of sessions (in <paramref name="status"/> when given) whose stored activity time is before
    /// <paramref name="cutoff"/>. Index scores up to the cutoff plus the slack are candidates; each one's hash decides.
    /// </summary>
    public async Task<IReadOnlyList<string>> UpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken)
    {
        var shards = status is { } st ? _keys.StatusIndexes(st) : _keys.TimeIndexes;
        var max = RedisMapping.Score(cutoff) + RedisIndexes.SlackMs;
        RedisValue[] fields = [RedisMapping.FUpdatedAt, RedisMapping.FStatus];
        var ids = new List<string>();
        var ghosts = new List<string>();
        foreach (var shard in shards)
        {
            await foreach (var chunk in _reader.ChunksAsync(shard, max, cancellationToken).ConfigureAwait(false))
            {
                var stored = await _connection.Guard(db => Task.WhenAll(chunk.Select(id => db.HashGetAsync(_keys.Meta(id), fields)))).ConfigureAwait(false);
                for (var i = 0; i < chunk.Length; i++)
                {
                    var updated = stored[i][0];
                    if (updated.IsNull)
                    {
                        ghosts.Add(chunk[i]);
                    }
                    else if ((long)updated < cutoff.UtcTicks && (status is null || (int)stored[i][1] == (int)status.Value))
                    {
                        ids.Add(chunk[i]);
                    }
                }
            }
        }
        await _indexes.PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        return ids;
    }

    /// <summary>Reads the hashes of a group of candidates (one pipelined round trip) and keeps the matches; the group is emptied.</summary>
    /// <returns>The stored time (whole milliseconds) of the need-th newest match, or null while fewer matched.</returns>
    private async Task<long?> TakeAsync(List<string> group, SessionQuery query, long need, List<SessionMetadata> matched, List<string> ghosts, List<string> strays)
    {
        if (group.Count > 0)
        {
            var ids = group.ToArray();
            group.Clear();
            var states = await _connection.Guard(db => Task.WhenAll(ids.Select(id => db.HashGetAllAsync(_keys.Meta(id))))).ConfigureAwait(false);
            for (var i = 0; i < ids.Length; i++)
            {
                var state = RedisMapping.StateFromHash(states[i]);
                if (state is null)
                {
                    ghosts.Add(ids[i]);
                }
                else if (query.Matches(state.Metadata))
                {
                    matched.Add(state.Metadata);
                }
                else if (query.UserId is not null ? !string.Equals(state.Metadata.UserId, query.UserId, StringComparison.Ordinal) : query.Status is not null)
                {
                    // Found through the user's (or the status's) index, but the session belongs elsewhere now.
                    strays.Add(ids[i]);
                }
            }
        }
        if (matched.Count < need)
        {
            return null;
        }
        matched.Sort(SessionQuery.Compare);
        matched.RemoveRange((int)need, matched.Count - (int)need);
        return RedisMapping.Score(matched[(int)need - 1].UpdatedAt);
    }
}
