namespace LangSwarm.Memory.Redis;

/// <summary>
/// The read scripts of a session's messages: one round trip each, on the session's slot, checking the session's
/// generation token first (answering <c>{'missing'}</c> when the session is gone or is another generation) and
/// reading either layout: messages in a hash keyed by sequence (<see cref="RedisSessionScripts.HashLayout"/>), found
/// in order through the facts sorted set, or — a session not written since an earlier version — in a sorted set of
/// JSON scored by sequence.
/// </summary>
/// <remarks>
/// Answers <c>{'ok', seq1, json1, seq2, json2, …}</c> in the order asked for; the JSON of the hash layout holds no
/// sequence (the reader takes it from the answer).
/// </remarks>
internal static class RedisReadScripts
{
    /// <summary>Ascending order (<see cref="Range"/>).</summary>
    public const string Ascending = "a";

    /// <summary>Descending order (<see cref="Range"/>).</summary>
    public const string Descending = "d";

    /// <summary>
    /// The live messages with sequences in [from, to], in the given order, at most <c>limit</c> (negative: all).
    /// KEYS: 1 meta, 2 msgs, 3 info. ARGV: 1 generation, 2 order (<c>a</c> or <c>d</c>), 3 from, 4 to, 5 limit.
    /// </summary>
    public const string Range = Live + """
        local out = {'ok'}
        if h[3] == '2' then
          local ids
          if ARGV[2] == 'd' then
            ids = redis.call('ZREVRANGEBYSCORE', KEYS[3], ARGV[4], ARGV[3], 'LIMIT', 0, ARGV[5])
          else
            ids = redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[3], ARGV[4], 'LIMIT', 0, ARGV[5])
          end
          local seqs = {}
          for i = 1, #ids do seqs[i] = string.match(ids[i], '^[^|]*') end
          fetch(seqs, out)
        else
          local old
          if ARGV[2] == 'd' then
            old = redis.call('ZREVRANGEBYSCORE', KEYS[2], ARGV[4], ARGV[3], 'WITHSCORES', 'LIMIT', 0, ARGV[5])
          else
            old = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[3], ARGV[4], 'WITHSCORES', 'LIMIT', 0, ARGV[5])
          end
          for i = 1, #old, 2 do
            out[#out + 1] = old[i + 1]
            out[#out + 1] = old[i]
          end
        end
        return out
        """;

    /// <summary>
    /// The live messages with the given sequences (ascending; unknown ones are skipped).
    /// KEYS: 1 meta, 2 msgs, 3 info. ARGV: 1 generation, then the sequences.
    /// </summary>
    public const string Sequences = Live + """
        local out = {'ok'}
        if h[3] == '2' then
          local seqs = {}
          for i = 2, #ARGV do seqs[i - 1] = ARGV[i] end
          fetch(seqs, out)
        else
          for i = 2, #ARGV do
            local old = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[i], ARGV[i])
            if #old > 0 then
              out[#out + 1] = ARGV[i]
              out[#out + 1] = old[1]
            end
          end
        end
        return out
        """;

    /// <summary>Every script, for loading at connect.</summary>
    public static IEnumerable<string> All => [Range, Sequences];

    // The session exists and is the caller's generation (h[3]: its layout), and fetch(seqs, out) appends the
    // sequence and JSON of each of seqs found in the messages hash (HMGET in slices that fit Lua's stack).
    private const string Live = """
        local h = redis.call('HMGET', KEYS[1], 'session_id', 'gen', 'layout')
        if not h[1] or (h[2] or '') ~= ARGV[1] then return {'missing'} end
        local function fetch(seqs, out)
          for i = 1, #seqs, 512 do
            local last = math.min(i + 511, #seqs)
            local v = redis.call('HMGET', KEYS[2], unpack(seqs, i, last))
            for j = 1, last - i + 1 do
              if v[j] then
                out[#out + 1] = seqs[i + j - 1]
                out[#out + 1] = v[j]
              end
            end
          end
        end

        """;
}
