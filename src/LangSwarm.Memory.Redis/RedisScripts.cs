namespace LangSwarm.Memory.Redis;

/// <summary>
/// The Lua scripts that make every multi-key change atomic. A script runs on one node as a unit, so a session's keys
/// and the global indexes change together or not at all.
/// </summary>
/// <remarks>
/// Redis Cluster: a session's own keys share a hash slot (the escaped id is their hash tag), but the global indexes
/// (<c>{prefix}:idx:*</c>) cannot share a slot with every session. These scripts declare both, which a single node
/// (or a primary with replicas, or Sentinel) runs atomically; on Redis Cluster they fail with <c>CROSSSLOT</c>.
/// Running on Cluster would need the indexes split from the session writes (non-atomic, repaired by the lazy
/// clean-up this backend already does for expired sessions); this backend does not do that.
/// </remarks>
internal static class RedisScripts
{
    /// <summary>Result of a script whose session already exists (create) .</summary>
    public const string Exists = "exists";

    /// <summary>Result of a script whose session does not exist (update).</summary>
    public const string Missing = "missing";

    /// <summary>Result of an append whose expected last sequence did not match (another process wrote).</summary>
    public const string Conflict = "conflict";

    /// <summary>Prefix of a result asking the caller to retry with the owner marker that follows.</summary>
    public const string RetryPrefix = "retry:";

    /// <summary>Result of a successful change.</summary>
    public const string Ok = "ok";

    /// <summary>
    /// Writes a session: its hash, new messages, removed messages, a new summary, its index entries and TTL.
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums, 5 time index, 6-8 status indexes (active, archived, expired), 9 owners,
    /// 10 new user index, 11 old user index.
    /// ARGV: 1 mode (create|update), 2 session id, 3 score, 4 TTL ms (0: none), 5 status, 6 new owner marker,
    /// 7 expected stored owner marker, 8 expected stored last_sequence ('' to skip), 9 H, then H field/value pairs,
    /// then A, then A × (sequence, message JSON, info), then R, then R sequences to remove, then S, then S summaries.
    /// </summary>
    public const string WriteSession = """
        local exists = redis.call('EXISTS', KEYS[1]) == 1
        if ARGV[1] == 'create' then
          if exists then return 'exists' end
        elseif not exists then
          return 'missing'
        end
        local stored
        if exists then
          stored = redis.call('HGET', KEYS[1], 'owner')
        else
          stored = redis.call('HGET', KEYS[9], ARGV[2])
        end
        if not stored then stored = '' end
        if stored ~= ARGV[7] then return 'retry:' .. stored end
        if ARGV[8] ~= '' then
          local last = redis.call('HGET', KEYS[1], 'last_sequence')
          if last ~= ARGV[8] then return 'conflict' end
        end
        if ARGV[1] == 'create' then
          redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
        end
        local p = 9
        local h = tonumber(ARGV[p]); p = p + 1
        for j = 1, h do
          redis.call('HSET', KEYS[1], ARGV[p], ARGV[p + 1]); p = p + 2
        end
        redis.call('HSET', KEYS[1], 'owner', ARGV[6])
        local a = tonumber(ARGV[p]); p = p + 1
        for j = 1, a do
          redis.call('ZADD', KEYS[2], ARGV[p], ARGV[p + 1])
          redis.call('ZADD', KEYS[3], ARGV[p], ARGV[p + 2])
          p = p + 3
        end
        local r = tonumber(ARGV[p]); p = p + 1
        for j = 1, r do
          redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[p], ARGV[p])
          redis.call('ZREMRANGEBYSCORE', KEYS[3], ARGV[p], ARGV[p])
          p = p + 1
        end
        local s = tonumber(ARGV[p]); p = p + 1
        for j = 1, s do
          redis.call('RPUSH', KEYS[4], ARGV[p]); p = p + 1
        end
        redis.call('ZADD', KEYS[5], ARGV[3], ARGV[2])
        for k = 0, 2 do
          if tostring(k) == ARGV[5] then
            redis.call('ZADD', KEYS[6 + k], ARGV[3], ARGV[2])
          else
            redis.call('ZREM', KEYS[6 + k], ARGV[2])
          end
        end
        redis.call('ZREM', KEYS[11], ARGV[2])
        redis.call('ZADD', KEYS[10], ARGV[3], ARGV[2])
        redis.call('HSET', KEYS[9], ARGV[2], ARGV[6])
        local ttl = tonumber(ARGV[4])
        for k = 1, 4 do
          if ttl > 0 then
            redis.call('PEXPIRE', KEYS[k], ttl)
          else
            redis.call('PERSIST', KEYS[k])
          end
        end
        return 'ok'
        """;

    /// <summary>
    /// Removes a session and its index entries; in ghost mode only when the session hash is gone (expired), so a
    /// session re-created meanwhile is left alone.
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums, 5 time index, 6-8 status indexes, 9 owners, 10 user index.
    /// ARGV: 1 session id, 2 expected stored owner marker, 3 mode (delete|ghost).
    /// Returns 'deleted', 'absent' (nothing stored; stale index entries removed), 'alive' (ghost mode, session exists)
    /// or 'retry:marker'.
    /// </summary>
    public const string RemoveSession = """
        local exists = redis.call('EXISTS', KEYS[1]) == 1
        if ARGV[3] == 'ghost' and exists then return 'alive' end
        local stored
        if exists then
          stored = redis.call('HGET', KEYS[1], 'owner')
        else
          stored = redis.call('HGET', KEYS[9], ARGV[1])
        end
        if not stored then stored = '' end
        if stored ~= ARGV[2] then return 'retry:' .. stored end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
        redis.call('ZREM', KEYS[5], ARGV[1])
        redis.call('ZREM', KEYS[6], ARGV[1])
        redis.call('ZREM', KEYS[7], ARGV[1])
        redis.call('ZREM', KEYS[8], ARGV[1])
        redis.call('ZREM', KEYS[10], ARGV[1])
        redis.call('HDEL', KEYS[9], ARGV[1])
        if exists then return 'deleted' end
        return 'absent'
        """;
}
