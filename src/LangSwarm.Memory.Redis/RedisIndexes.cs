using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// Writes the indexes of a namespace (time and status shards, registry, user indexes) and removes sessions.
/// </summary>
/// <remarks>
/// <para>A session's keys and its index entries live in different hash slots, so no write can change both
/// atomically on Redis Cluster. The session is always written first and its index entries after; an index write
/// that fails after its session write succeeded is reported to the health sink, never to the caller (the write
/// did happen). The indexes repair themselves: an entry whose session is gone (expired, or its removal was cut
/// short) is detected and dropped when listing, clean-up or statistics meet it; an entry in the wrong user or
/// status index is dropped when a listing of that user or status meets it; a missing or stale entry is rewritten
/// by the session's next index write, and <see cref="RedisIndexRepair"/> restores every entry from the session
/// hashes.</para>
/// <para>Index scores follow a session's activity lazily: an add rewrites them only when they are more than
/// <see cref="SlackMs"/> off (the add's script says so), so the common add is one script on one slot. Readers
/// allow for that slack.</para>
/// </remarks>
internal sealed class RedisIndexes
{
    /// <summary>Index members read per round trip.</summary>
    public const int Chunk = 512;

    /// <summary>How far (milliseconds) an index score may trail or lead the session's stored activity time.</summary>
    public const long SlackMs = 1000;

    private readonly RedisConnection _connection;
    private readonly RedisKeys _keys;

    /// <summary>Creates the index access of a namespace.</summary>
    public RedisIndexes(RedisConnection connection, RedisKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    /// <summary>Milliseconds a registry field lives (0: no field TTL; set at connect when the server has HPEXPIRE).</summary>
    public long RegistryTtlMs { get; set; }

    /// <summary>
    /// Indexes one generation and metadata version of a session: its shard (one script) and its user index, in one
    /// round trip; a second one takes it out of a previous owner's index when the owner changed.
    /// </summary>
    public async Task PutAsync(string sessionId, string generation, long version, long score, int status, string owner)
    {
        var shard = _keys.ShardKeys(sessionId);
        RedisValue[] args = [sessionId, generation, version, score, status, owner, RegistryTtlMs];
        var userIndex = _keys.UserIndexForMarker(owner);
        var (put, _) = await _connection.Guard(db => Both(
            db.ScriptEvaluateAsync(RedisScripts.IndexPut, shard, args),
            db.SortedSetAddAsync(userIndex, sessionId, score))).ConfigureAwait(false);
        var r = (RedisResult[])put!;
        var other = (string)r[1]!;
        if ((string)r[0]! == "ok" && other.Length > 0 && other != owner)
        {
            await _connection.Guard(db => db.SortedSetRemoveAsync(_keys.UserIndexForMarker(other), sessionId)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <see cref="PutAsync"/> after a session write that succeeded: a failure is reported to the health sink, not
    /// thrown (the write happened), and the session's index score is cleared so its next add writes the entries again.
    /// </summary>
    public async Task PutQuietlyAsync(RedisKey meta, string sessionId, string generation, long version, long score, int status, string owner)
    {
        try
        {
            await PutAsync(sessionId, generation, version, score, status, owner).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MemoryException or RedisException)
        {
            _connection.ErrorSink?.Invoke($"indexing session '{sessionId}' failed after its write succeeded (repaired by its next write or a repair pass): {ex.Message}");
            try
            {
                await _connection.Database.ScriptEvaluateAsync(RedisScripts.ClearIndexScore, [meta], flags: CommandFlags.FireAndForget).ConfigureAwait(false);
            }
            catch (Exception again) when (again is MemoryException or RedisException or ObjectDisposedException)
            {
                // The server is away: the entries wait for the repair pass.
            }
        }
    }

    /// <summary>Removes a session and its index entries; false when there was none (stale entries are still removed).</summary>
    public async Task<bool> RemoveAsync(string sessionId)
    {
        var keys = _keys.SessionKeys(sessionId);
        var r = (RedisResult[])(await _connection.Guard(db => db.ScriptEvaluateAsync(RedisScripts.RemoveSession, keys)).ConfigureAwait(false))!;
        if ((string)r[0]! != "deleted")
        {
            await PurgeGhostAsync(sessionId).ConfigureAwait(false);
            return false;
        }
        try
        {
            await RemoveEntriesAsync(sessionId, (string)r[1]!, (string)r[2]!).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MemoryException or RedisException)
        {
            // The session is gone (the removal happened); its index entries are ghosts now, dropped when met.
            _connection.ErrorSink?.Invoke($"removing the index entries of session '{sessionId}' failed after it was deleted (dropped when met): {ex.Message}");
        }
        return true;
    }

    /// <summary>Takes index entries of expired sessions out of every index (skipping any re-created meanwhile).</summary>
    /// <returns>The ids whose sessions were indeed gone.</returns>
    public async Task<List<string>> PurgeGhostsAsync(List<string> ghosts, CancellationToken cancellationToken)
    {
        var gone = new List<string>();
        foreach (var id in ghosts.Distinct(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await PurgeGhostAsync(id).ConfigureAwait(false))
            {
                gone.Add(id);
            }
        }
        return gone;
    }

    /// <summary>Drops entries a user's listing found in that user's index but whose session belongs to someone else.</summary>
    public async Task DropFromUserIndexAsync(RedisKey userIndex, List<string> strays)
    {
        if (strays.Count > 0)
        {
            RedisValue[] members = [.. strays.Select(s => (RedisValue)s)];
            await _connection.Guard(db => db.SortedSetRemoveAsync(userIndex, members)).ConfigureAwait(false);
        }
    }

    /// <summary>Drops entries a status listing found in that status's index but whose session has another status.</summary>
    public async Task DropFromStatusIndexAsync(SessionStatus status, List<string> strays)
    {
        foreach (var id in strays)
        {
            RedisValue[] args = [id, (int)status];
            var shard = _keys.ShardKeys(id);
            await _connection.Guard(db => db.ScriptEvaluateAsync(RedisScripts.IndexDropStatus, shard, args)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes out the entries of a session whose hash is gone: the registry's generation is read first and the
    /// removal only applies to it, so a session created again between the two steps keeps its entries.
    /// </summary>
    private async Task<bool> PurgeGhostAsync(string sessionId)
    {
        var shard = _keys.ShardKeys(sessionId);
        var registered = await _connection.Guard(db => db.HashGetAsync(shard[4], sessionId)).ConfigureAwait(false);
        if (await _connection.Guard(db => db.KeyExistsAsync(_keys.Meta(sessionId))).ConfigureAwait(false))
        {
            return false;
        }
        var generation = registered.IsNull ? string.Empty : ((string)registered!).Split('|')[0];
        await RemoveEntriesAsync(sessionId, generation, owner: null).ConfigureAwait(false);
        return true;
    }

    private async Task RemoveEntriesAsync(string sessionId, string generation, string? owner)
    {
        var shard = _keys.ShardKeys(sessionId);
        RedisValue[] args = [sessionId, generation];
        var r = (RedisResult[])(await _connection.Guard(db => db.ScriptEvaluateAsync(RedisScripts.IndexRemove, shard, args)).ConfigureAwait(false))!;
        var owners = new HashSet<string>(StringComparer.Ordinal);
        if (owner is not null)
        {
            owners.Add(owner);
        }
        if ((string)r[0]! == "removed")
        {
            owners.Add((string)r[1]!);
        }
        foreach (var o in owners)
        {
            await _connection.Guard(db => db.SortedSetRemoveAsync(_keys.UserIndexForMarker(o), sessionId)).ConfigureAwait(false);
        }
    }

    private static async Task<(T1, T2)> Both<T1, T2>(Task<T1> a, Task<T2> b)
    {
        await Task.WhenAll(a, b).ConfigureAwait(false);
        return (await a.ConfigureAwait(false), await b.ConfigureAwait(false));
    }
}
