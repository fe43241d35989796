namespace LangSwarm.Memory.Redis;

/// <summary>
/// The scripts of the index shards and the removal script of a session. Each touches one hash slot: the index
/// scripts one shard's keys (time, the three status indexes, the registry; see <see cref="RedisKeys"/>), the
/// removal script one session's keys. So they run on Redis Cluster as on a single node.
/// </summary>
/// <remarks>
/// The registry of a shard maps each session id to <c>gen|ver|status|owner</c>: the generation and metadata
/// version its index entries were written from, its status and its owner marker. Index writes carry the
/// generation and version, so a late write of an older version never undoes a newer one, and a removal of one
/// generation never takes out the entries of a session created again under the same id.
/// </remarks>
internal static class RedisScripts
{
    /// <summary>
    /// Indexes a session in its shard: time index, its status index (out of the others), registry.
    /// KEYS: 1 time, 2-4 status 0-2, 5 registry. ARGV: 1 session id, 2 generation, 3 metadata version, 4 score,
    /// 5 status, 6 owner marker, 7 registry field TTL ms (0: none; only when the server has HPEXPIRE).
    /// Answers <c>{'ok', previous owner}</c> (empty when none) or <c>{'stale', stored owner}</c> when a newer version
    /// of the same generation is already indexed (then only the scores move, never down).
    /// </summary>
    public const string IndexPut = """
        local cur = redis.call('HGET', KEYS[5], ARGV[1])
        local prev = ''
        if cur then
          local g, v, st, o = string.match(cur, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
          if g == ARGV[2] and tonumber(v) > tonumber(ARGV[3]) then
            redis.call('ZADD', KEYS[1], 'XX', 'GT', ARGV[4], ARGV[1])
            local s = tonumber(st)
            if s and s >= 0 and s <= 2 then redis.call('ZADD', KEYS[2 + s], 'XX', 'GT', ARGV[4], ARGV[1]) end
            return {'stale', o}
          end
          prev = o or ''
        end
        redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
        for k = 0, 2 do
          if tostring(k) == ARGV[5] then
            redis.call('ZADD', KEYS[2 + k], ARGV[4], ARGV[1])
          else
            redis.call('ZREM', KEYS[2 + k], ARGV[1])
          end
        end
        redis.call('HSET', KEYS[5], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[5] .. '|' .. ARGV[6])
        if tonumber(ARGV[7]) > 0 then redis.call('HPEXPIRE', KEYS[5], ARGV[7], 'FIELDS', 1, ARGV[1]) end
        return {'ok', prev}
        """;

    /// <summary>
    /// Takes a session out of its shard when the registry names the expected generation (empty: when it names
    /// none, the entries of a session whose registry field expired).
    /// KEYS: as <see cref="IndexPut"/>. ARGV: 1 session id, 2 expected generation.
    /// Answers <c>{'removed', owner}</c> or <c>{'kept'}</c>.
    /// </summary>
    public const string IndexRemove = """
        local cur = redis.call('HGET', KEYS[5], ARGV[1])
        local g, o = '', ''
        if cur then g, o = string.match(cur, '^([^|]*)|[^|]*|[^|]*|(.*)$') end
        if g ~= ARGV[2] then return {'kept'} end
        for k = 1, 4 do redis.call('ZREM', KEYS[k], ARGV[1]) end
        redis.call('HDEL', KEYS[5], ARGV[1])
        return {'removed', o or ''}
        """;

    /// <summary>
    /// Drops a session from one status index of its shard unless the registry says it has that status (a listing
    /// found the entry stale: the session hash holds another status). KEYS: as <see cref="IndexPut"/>.
    /// ARGV: 1 session id, 2 the status whose index holds the stale entry.
    /// </summary>
    public const string IndexDropStatus = """
        local cur = redis.call('HGET', KEYS[5], ARGV[1])
        local st = cur and string.match(cur, '^[^|]*|[^|]*|([^|]*)|') or ''
        if st == ARGV[2] then return 0 end
        return redis.call('ZREM', KEYS[2 + tonumber(ARGV[2])], ARGV[1])
        """;

    /// <summary>
    /// Deletes a session's keys. KEYS: 1 meta, 2 msgs, 3 info, 4 sums.
    /// Answers <c>{'deleted', generation, owner}</c> or <c>{'absent'}</c>.
    /// </summary>
    public const string RemoveSession = """
        local h = redis.call('HMGET', KEYS[1], 'session_id', 'gen', 'owner')
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
        if not h[1] then return {'absent'} end
        return {'deleted', h[2] or '', h[3] or ''}
        """;

    /// <summary>Clears a session's index score (when it exists), so its next add writes its index entries. KEYS: 1 meta.</summary>
    public const string ClearIndexScore = """
        if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'ix', '0') end
        return 0
        """;

    /// <summary>Every script, for loading at connect.</summary>
    public static IEnumerable<string> All => [IndexPut, IndexRemove, IndexDropStatus, RemoveSession, ClearIndexScore];
}
