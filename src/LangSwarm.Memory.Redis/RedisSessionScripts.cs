namespace LangSwarm.Memory.Redis;

/// <summary>
/// The Lua scripts behind <see cref="RedisSessionHandle"/>: each write is one script on the session's four keys
/// (one hash slot, so it runs on Redis Cluster), and the counters are computed inside the script from what the
/// session stores — never sent by the client — so two writers or a stale cached state cannot make them wrong.
/// </summary>
/// <remarks>
/// <para>Every session hash holds a random generation token (<c>gen</c>), written when the session is created. Every
/// write script first checks that the hash exists and holds the caller's token, and answers <c>{'missing'}</c>
/// without writing anything otherwise, so a handle stops working once its session is removed (or expired), also
/// when a session with the same id was created again. Hashes written before the token existed hold none; their
/// handles carry the empty token.</para>
/// <para>The hash also holds a metadata version (<c>ver</c>), raised by every save: a save names the version its
/// metadata was derived from and is refused with <c>{'conflict'}</c> when another writer saved meanwhile (the
/// handle then merges and tries again), and <c>ix</c>, the score the session was last indexed with (see
/// <see cref="RedisIndexes"/>).</para>
/// <para>Answers are arrays: <c>{'ok', last_sequence, live_messages, live_tokens, summarized_through, ...}</c>,
/// <c>{'missing'}</c>, <c>{'exists'}</c> (create) or <c>{'conflict'}</c> (save). The index entries are not written
/// here: they live in other hash slots.</para>
/// <para>Messages: the client sends each message's JSON and its index facts, both without the sequence; the script
/// takes the next sequence from the stored <c>last_sequence</c>, stores the JSON as the field named by the sequence
/// in the messages hash, and the facts as <c>N|facts</c> scored by the sequence in the facts sorted set (which also
/// orders the sequences for range reads, <see cref="RedisReadScripts"/>). A session hash whose <c>layout</c> field
/// is not <see cref="HashLayout"/> was written by an earlier version, whose messages key is a sorted set of JSON
/// with the sequence spliced in (<c>{"seq":N,…</c>) scored by the sequence: the first add or eviction converts it
/// (the readers read both).</para>
/// </remarks>
internal static class RedisSessionScripts
{
    /// <summary>Answer of a change that was made.</summary>
    public const string Ok = "ok";

    /// <summary>Answer when the session is gone or is another generation.</summary>
    public const string Missing = "missing";

    /// <summary>Answer of a create whose id exists.</summary>
    public const string Exists = "exists";

    /// <summary>Answer of a save whose metadata version is not the stored one.</summary>
    public const string Conflict = "conflict";

    /// <summary>
    /// Creates a session with zeroed counters, a generation token and metadata version 1.
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums.
    /// ARGV: 1 generation, 2 TTL ms (0: none), 3 score, 4 owner marker, 5 H, then H field/value pairs.
    /// </summary>
    public const string Create = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
        redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
        local p = 6
        for j = 1, tonumber(ARGV[5]) do
          redis.call('HSET', KEYS[1], ARGV[p], ARGV[p + 1]); p = p + 2
        end
        redis.call('HSET', KEYS[1], 'owner', ARGV[4], 'gen', ARGV[1], 'layout', '2', 'ver', '1', 'ix', ARGV[3], 'last_sequence', '0', 'live_messages', '0', 'live_tokens', '0', 'summarized_through', '0')
        """ + Renew + Counters;

    /// <summary>
    /// Appends messages with the sequences after the stored last one, counts them and marks the session active,
    /// with as little server work as the hot path allows: one read of the hash, per message one hash field (the
    /// message JSON, keyed by its sequence) and one small sorted-set entry (its facts), one write of the counters.
    /// When the stored index score is more than the slack off the new activity time, it moves to it and the answer
    /// asks the caller to write the index entries: <c>{'ok', counters…, 1, status, owner, ver}</c> (else 0).
    /// The TTL of the four keys is renewed when the window was empty (the message keys are new) or the hash's
    /// remaining TTL is more than a second off the configured one; so within a second of every write, every key
    /// lives the full TTL. A session of the earlier layout is converted first (<see cref="Upgrade"/>).
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums.
    /// ARGV: 1 generation, 2 TTL ms, 3 updated_at ticks, 4 score, 5 slack ms, 6 N,
    /// then N × (message JSON without its sequence, index facts without theirs, token count).
    /// </summary>
    public const string Append = """
        local h = redis.call('HMGET', KEYS[1], 'session_id', 'gen', 'layout', 'last_sequence', 'live_messages', 'live_tokens', 'summarized_through', 'ix')
        if not h[1] or (h[2] or '') ~= ARGV[1] then return {'missing'} end

        """ + Upgrade + """

        local last = tonumber(h[4] or '0')
        local live = tonumber(h[5] or '0')
        local tokens = tonumber(h[6] or '0')
        local n = tonumber(ARGV[6])
        local p = 7
        for j = 1, n do
          local s = string.format('%d', last + j)
          redis.call('HSET', KEYS[2], s, ARGV[p])
          redis.call('ZADD', KEYS[3], s, s .. '|' .. ARGV[p + 1])
          tokens = tokens + tonumber(ARGV[p + 2])
          p = p + 3
        end
        local c = {'ok', last + n, live + n, tokens, tonumber(h[7] or '0'), 0}
        local seq, count, sum = string.format('%d', c[2]), string.format('%d', c[3]), string.format('%d', tokens)
        if math.abs(tonumber(ARGV[4]) - tonumber(h[8] or '0')) > tonumber(ARGV[5]) then
          local o = redis.call('HMGET', KEYS[1], 'status', 'owner', 'ver')
          c[6], c[7], c[8], c[9] = 1, tonumber(o[1] or '0'), o[2] or '', tonumber(o[3] or '0')
          redis.call('HSET', KEYS[1], 'last_sequence', seq, 'updated_at', ARGV[3], 'live_messages', count, 'live_tokens', sum, 'ix', ARGV[4])
        else
          redis.call('HSET', KEYS[1], 'last_sequence', seq, 'updated_at', ARGV[3], 'live_messages', count, 'live_tokens', sum)
        end
        local ttl = tonumber(ARGV[2])
        if live == 0 or math.abs(redis.call('PTTL', KEYS[1]) - (ttl > 0 and ttl or -1)) > 1000 then
          for k = 1, 4 do
            if ttl > 0 then redis.call('PEXPIRE', KEYS[k], ttl) else redis.call('PERSIST', KEYS[k]) end
          end
        end
        return c
        """;

    /// <summary>
    /// Takes messages out of the live window (unknown sequences are skipped), subtracting what was stored for each.
    /// A session of the earlier layout is converted first (<see cref="Upgrade"/>).
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums. ARGV: 1 generation, 2 TTL ms, then the sequences.
    /// </summary>
    public const string Evict = """
        local h = redis.call('HMGET', KEYS[1], 'session_id', 'gen', 'layout')
        if not h[1] or (h[2] or '') ~= ARGV[1] then return {'missing'} end

        """ + Upgrade + """

        local removed, tokens = 0, 0
        for i = 3, #ARGV do
          local m = redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[i], ARGV[i])
          if #m > 0 then
            removed = removed + 1
            local s, t = string.match(m[1], '^([^|]*)|[^|]*|([^|]*)|')
            tokens = tokens + (tonumber(t) or 0)
            redis.call('HDEL', KEYS[2], s)
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
    /// Replaces the metadata when the stored metadata version is the caller's (else answers <c>{'conflict'}</c>,
    /// nothing written); last_sequence becomes the larger of stored and given; summarized_through the given one
    /// unless the caller passes it unchanged from what it last saw (another writer may have moved it since); the
    /// live counters stay as stored. The version goes up by one, the index score becomes the new one.
    /// Answers the counters and the new version.
    /// KEYS: 1 meta, 2 msgs, 3 info, 4 sums.
    /// ARGV: 1 generation, 2 TTL ms, 3 expected version, 4 score, 5 owner marker, 6 last sequence,
    /// 7 summarized through, 8 summarized through as the caller last saw it, 9 H, then H field/value pairs.
    /// </summary>
    public const string Save = Live + """
        local ver = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')
        if ver ~= tonumber(ARGV[3]) then return {'conflict'} end
        local p = 10
        for j = 1, tonumber(ARGV[9]) do
          redis.call('HSET', KEYS[1], ARGV[p], ARGV[p + 1]); p = p + 2
        end
        local last = tonumber(redis.call('HGET', KEYS[1], 'last_sequence') or '0')
        if tonumber(ARGV[6]) > last then redis.call('HSET', KEYS[1], 'last_sequence', ARGV[6]) end
        if ARGV[7] ~= ARGV[8] then redis.call('HSET', KEYS[1], 'summarized_through', ARGV[7]) end
        redis.call('HSET', KEYS[1], 'owner', ARGV[5], 'ver', string.format('%d', ver + 1), 'ix', ARGV[4])
        """ + Renew + """

        local c = redis.call('HMGET', KEYS[1], 'last_sequence', 'live_messages', 'live_tokens', 'summarized_through')
        return {'ok', c[1] or '0', c[2] or '0', c[3] or '0', c[4] or '0', string.format('%d', ver + 1)}
        """;

    /// <summary>Every script of a handle, for loading at connect.</summary>
    public static IEnumerable<string> All => [Create, Append, Evict, AddSummary, Save];

    /// <summary>The <c>layout</c> field of a session hash whose messages are a hash keyed by sequence.</summary>
    public const string HashLayout = "2";

    // Converts a session of the earlier layout (h[3], its 'layout' field, is not '2'): its messages were a sorted set
    // of JSON scored by sequence; they become hash fields keyed by the sequence, in this script (atomic, once per
    // session, O(messages)), keeping the key's TTL. The JSON keeps the sequence it was written with; readers take
    // the sequence from the field.
    private const string Upgrade = """
        if h[3] ~= '2' then
          if redis.call('TYPE', KEYS[2]).ok == 'zset' then
            local keep = redis.call('PTTL', KEYS[2])
            local old = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
            redis.call('DEL', KEYS[2])
            for i = 1, #old, 2 do
              redis.call('HSET', KEYS[2], string.format('%d', tonumber(old[i + 1])), old[i])
            end
            if keep > 0 then redis.call('PEXPIRE', KEYS[2], keep) end
          end
          redis.call('HSET', KEYS[1], 'layout', '2')
        end
        """;

    // The session exists and is the caller's generation (ARGV[1]).
    private const string Live = """
        local live = redis.call('HMGET', KEYS[1], 'session_id', 'gen')
        if not live[1] or (live[2] or '') ~= ARGV[1] then return {'missing'} end

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
