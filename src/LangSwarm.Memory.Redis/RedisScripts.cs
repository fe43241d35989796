namespace LangSwarm.Memory.Redis;

/// <summary>
/// The removal script (the write scripts of a session are <see cref="RedisSessionScripts"/>). A script runs on one
/// node as a unit, so a session's keys and the global indexes change together or not at all.
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
    /// <summary>Prefix of a result asking the caller to retry with the owner marker that follows.</summary>
    public const string RetryPrefix = "retry:";

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
