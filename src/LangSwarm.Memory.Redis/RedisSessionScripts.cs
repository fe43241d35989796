namespace LangSwarm.Memory.Redis;

/// <summary>
/// The Lua scripts behind <see cref="RedisSessionHandle"/>: each write is one script, so the session's keys, its
/// counters and the global indexes change together or not at all, and the counters are computed inside the
/// script from what the session stores — never sent by the client — so two writers or a stale cached state
/// cannot make them wrong.
/// </summary>
/// <remarks>
/// <para>Every session hash holds a random generation token (<c>gen</c>), written when the session is created. Every
/// write script first checks that the hash exists and holds the caller's token, and answers <c>{'missing'}</c>
/// without writing anything otherwise, so a handle stops working once its session is removed (or expired), also
/// when a session with the same id was created again. Hashes written before the token existed hold none; their
/// handles carry the empty token.</para>
/// <para>Answers are arrays: <c>{'ok', last_sequence, live_messages, live_tokens, summarized_through}</c>,
/// <c>{'missing'}</c>, <c>{'exists'}</c> (create) or <c>{'retry', owner}</c> (the stored owner marker differs from the
/// one the caller's index keys were built for). Like <see cref="RedisScripts"/>, they need a single primary.</para>
/// <para>Messages are stored as before: the client sends each message's JSON without its sequence and its index
/// facts without theirs; the script takes the next sequence from the stored <c>last_sequence</c> and splices it in
/// front (<c>{"seq":N,</c> and <c>N|</c>).</para>
/// </remarks>
internal static class RedisSessionScripts
{
    /// <summary>Answer of a change that was made.</summary>
    public const string Ok = "ok";

    /// <summary>Answer when the session is gone or is another generation.</summary>
    public const string Missing = "missing";

    /// <summary>Answer of a create whose id exists.</summary>
    public const string Exists = "exists";

    /// <summary>Answer asking to retry with the stored owner marker that follows.</summary>
    public const string Retry = "retry";

    /// <summary>
    /// Creates a session with zeroed counters and a generation token, and indexes it.
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums, 5 time index, 6-8 status indexes, 9 owners, 10 user index, 11 user
    /// index of the owner the owners hash still names (a vanished session of another user).
    /// ARGV: 1 generation, 2 TTL ms (0: none), 3 session id, 4 score, 5 status, 6 owner marker, 7 expected marker in
    /// the owners hash, 8 H, then H field/value pairs.
    /// </summary>
    public const string Create = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
        local stored = redis.call('HGET', KEYS[9], ARGV[3]) or ''
        if stored ~= ARGV[7] then return {'retry', stored} end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
        local p = 9
        for j = 1, tonumber(ARGV[8]) do
          redis.call('HSET', KEYS[1], ARGV[p], ARGV[p + 1]); p = p + 2
        end
        redis.call('HSET', KEYS[1], 'owner', ARGV[6], 'gen', ARGV[1], 'last_sequence', '0', 'live_messages', '0', 'live_tokens', '0', 'summarized_through', '0')
        """ + Index + Renew + Counters;

    /// <summary>
    /// Appends messages with the sequences after the stored last one, counts them and marks the session active.
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums, 5 time index, 6-8 status indexes, 9 user index.
    /// ARGV: 1 generation, 2 TTL ms, 3 session id, 4 updated_at ticks, 5 score, 6 owner marker of the user index, 7 N,
    /// then N × (message JSON without its sequence, index facts without theirs, token count).
    /// </summary>
    public const string Append = """
        local h = redis.call('HMGET', KEYS[1], 'session_id', 'gen', 'owner', 'status', 'last_sequence')
        if not h[1] or (h[2] or '') ~= ARGV[1] then return {'missing'} end
        if (h[3] or '') ~= ARGV[6] then return {'retry', h[3] or ''} end
        local last = tonumber(h[5] or '0')
        local n = tonumber(ARGV[7])
        local tokens = 0
        local p = 8
        for j = 1, n do
          local s = string.format('%d', last + j)
          redis.call('ZADD', KEYS[2], s, '{"seq":' .. s .. ',' .. string.sub(ARGV[p], 2))
          redis.call('ZADD', KEYS[3], s, s .. '|' .. ARGV[p + 1])
          tokens = tokens + tonumber(ARGV[p + 2])
          p = p + 3
        end
        redis.call('HSET', KEYS[1], 'last_sequence', string.format('%d', last + n), 'updated_at', ARGV[4])
        redis.call('HINCRBY', KEYS[1], 'live_messages', n)
        redis.call('HINCRBY', KEYS[1], 'live_tokens', tokens)
        redis.call('ZADD', KEYS[5], ARGV[5], ARGV[3])
        local st = tonumber(h[4])
        if st and st >= 0 and st <= 2 then redis.call('ZADD', KEYS[6 + st], ARGV[5], ARGV[3]) end
        redis.call('ZADD', KEYS[9], ARGV[5], ARGV[3])
        """ + Renew + Counters;

    /// <summary>
    /// Takes messages out of the live window (unknown sequences are skipped), subtracting what was stored for each.
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums. ARGV: 1 generation, 2 TTL ms, then the sequences.
    /// </summary>
    public const string Evict = Live + """
        local removed, tokens = 0, 0
        for i = 3, #ARGV do
          local m = redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[i], ARGV[i])
          if #m > 0 then
            removed = removed + 1
            tokens = tokens + (tonumber(string.match(m[1], '^[^|]*|[^|]*|([^|]*)|')) or 0)
            redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[i], ARGV[i])
            redis.call('ZREMRANGEBYSCORE', KEYS[3], ARGV[i], ARGV[i])
          end
        end
        if removed > 0 then
          redis.call('HINCRBY', KEYS[1], 'live_messages', -removed)
          redis.call('HINCRBY', KEYS[1], 'live_tokens', -tokens)
        end
        """ + Renew + Counters;

    /// <summary>
    /// Stores a summary and moves the summarized-through mark to the larger of it and the summary's last sequence.
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums. ARGV: 1 generation, 2 TTL ms, 3 summary JSON, 4 its last sequence.
    /// </summary>
    public const string AddSummary = Live + """
        redis.call('RPUSH', KEYS[4], ARGV[3])
        local through = tonumber(redis.call('HGET', KEYS[1], 'summarized_through') or '0')
        if tonumber(ARGV[4]) > through then redis.call('HSET', KEYS[1], 'summarized_through', ARGV[4]) end
        """ + Renew + Counters;

    /// <summary>
    /// Replaces the metadata; last_sequence becomes the larger of stored and given, summarized_through the given one;
    /// the live counters stay as stored. Re-indexes the session.
    /// KEYS: as <see cref="Create"/> (11: the user index of the stored owner).
    /// ARGV: 1 generation, 2 TTL ms, 3 session id, 4 score, 5 status, 6 new owner marker, 7 expected stored owner
    /// marker, 8 last sequence, 9 summarized through, 10 H, then H field/value pairs.
    /// </summary>
    public const string Save = Live + """
        local stored = redis.call('HGET', KEYS[1], 'owner') or ''
        if stored ~= ARGV[7] then return {'retry', stored} end
        local p = 11
        for j = 1, tonumber(ARGV[10]) do
          redis.call('HSET', KEYS[1], ARGV[p], ARGV[p + 1]); p = p + 2
        end
        local last = tonumber(redis.call('HGET', KEYS[1], 'last_sequence') or '0')
        if tonumber(ARGV[8]) > last then redis.call('HSET', KEYS[1], 'last_sequence', ARGV[8]) end
        redis.call('HSET', KEYS[1], 'summarized_through', ARGV[9], 'owner', ARGV[6])
        """ + Index + Renew + Counters;

    /// <summary>Every script of a handle, for loading at connect.</summary>
    public static IEnumerable<string> All => [Create, Append, Evict, AddSummary, Save];

    // The session exists and is the caller's generation (ARGV[1]).
    private const string Live = """
        local live = redis.call('HMGET', KEYS[1], 'session_id', 'gen')
        if not live[1] or (live[2] or '') ~= ARGV[1] then return {'missing'} end

        """;

    // Index entries of a create or save: KEYS 5-11 and ARGV 3-6 as there.
    private const string Index = """

        redis.call('ZADD', KEYS[5], ARGV[4], ARGV[3])
        for k = 0, 2 do
          if tostring(k) == ARGV[5] then
            redis.call('ZADD', KEYS[6 + k], ARGV[4], ARGV[3])
          else
            redis.call('ZREM', KEYS[6 + k], ARGV[3])
          end
        end
        redis.call('ZREM', KEYS[11], ARGV[3])
        redis.call('ZADD', KEYS[10], ARGV[4], ARGV[3])
        redis.call('HSET', KEYS[9], ARGV[3], ARGV[6])
        """;

    // Every write renews (or clears) the TTL of the session's four keys (ARGV[2] ms, 0: none).
    private const string Renew = """

        local ttl = tonumber(ARGV[2])
        for k = 1, 4 do
          if ttl > 0 then redis.call('PEXPIRE', KEYS[k], ttl) else redis.call('PERSIST', KEYS[k]) end
        end
        """;

    // The answer of every successful write: the counters as stored now.
    private const string Counters = """

        local c = redis.call('HMGET', KEYS[1], 'last_sequence', 'live_messages', 'live_tokens', 'summarized_through')
        return {'ok', c[1] or '0', c[2] or '0', c[3] or '0', c[4] or '0'}
        """;
}
