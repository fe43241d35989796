using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// Reads one session's messages, message facts and summaries for its handle. Messages are read by the scripts of
/// <see cref="RedisReadScripts"/> (one round trip per chunk, either layout); facts and summaries by a command that
/// goes out pipelined with a check of the session hash (same round trip). So reading a removed session — or one
/// created again under the id — throws <see cref="SessionNotFoundException"/> instead of answering empty.
/// </summary>
internal sealed class RedisSessionReader
{
    private const int ReadChunk = 256;

    /// <summary>Infos read per round trip at most by a filtered newest-first read that keeps finding few matches.</summary>
    private const int LargestInfoChunk = 16_384;

    private static readonly RedisValue[] AliveFields = [RedisMapping.FSessionId, RedisMapping.FGeneration];
    private static readonly RedisScript RangeScript = new(RedisReadScripts.Range);
    private static readonly RedisScript SequencesScript = new(RedisReadScripts.Sequences);

    private readonly RedisConnection _connection;
    private readonly RedisSessionKeys _keys;
    private readonly string _sessionId;
    private readonly string _generation;

    /// <summary>Creates the reader of one session generation.</summary>
    public RedisSessionReader(RedisConnection connection, RedisSessionKeys keys, string sessionId, string generation)
    {
        _connection = connection;
        _keys = keys;
        _sessionId = sessionId;
        _generation = generation;
    }

    /// <summary>Live messages matching the query, ascending by sequence.</summary>
    public async IAsyncEnumerable<Message> ReadMessagesAsync(MessageQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (query.Since is null && query.Roles is null)
        {
            var from = query.FromSequence;
            while (from <= query.ToSequence)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var chunk = await RangeAsync(RedisReadScripts.Ascending, from, query.ToSequence, ReadChunk).ConfigureAwait(false);
                foreach (var m in chunk)
                {
                    from = m.Sequence + 1;
                    yield return m;
                }
                if (chunk.Count < ReadChunk)
                {
                    yield break;
                }
            }
            yield break;
        }

        var infos = await ReadInfosAsync(query.FromSequence, query.ToSequence).ConfigureAwait(false);
        var wanted = new List<long>();
        for (var i = 0; i < infos.Count; i++)
        {
            if (query.Matches(infos[i].Sequence, infos[i].Timestamp, infos[i].Role))
            {
                wanted.Add(infos[i].Sequence);
            }
        }
        for (var i = 0; i < wanted.Count; i += ReadChunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var m in await SequencesAsync(wanted, i, Math.Min(ReadChunk, wanted.Count - i)).ConfigureAwait(false))
            {
                yield return m;
            }
        }
    }

    /// <summary>The newest <paramref name="limit"/> live messages matching the query, ascending.</summary>
    public async Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        if (query.Since is null && query.Roles is null)
        {
            // A limit of 0 still checks that the session is there (a negative limit would read everything).
            var newest = await RangeAsync(RedisReadScripts.Descending, query.FromSequence, query.ToSequence, Math.Max(limit, 0)).ConfigureAwait(false);
            if (limit <= 0)
            {
                return [];
            }
            newest.Reverse();
            return newest;
        }
        var infos = await ReadNewestInfosAsync(query, limit, cancellationToken).ConfigureAwait(false);
        var wanted = new List<long>(infos.Count);
        for (var i = 0; i < infos.Count; i++)
        {
            wanted.Add(infos[i].Sequence);
        }
        var messages = new List<Message>(wanted.Count);
        for (var i = 0; i < wanted.Count; i += ReadChunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            messages.AddRange(await SequencesAsync(wanted, i, Math.Min(ReadChunk, wanted.Count - i)).ConfigureAwait(false));
        }
        return messages;
    }

    /// <summary>Index facts of the live messages in a sequence range, ascending (no message JSON is read).</summary>
    public async Task<IReadOnlyList<MessageInfo>> ReadInfosAsync(long from, long to)
    {
        var key = _keys.Infos;
        var values = await CheckedAsync(db => db.SortedSetRangeByScoreAsync(key, from, to)).ConfigureAwait(false);
        var infos = new MessageInfo[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            infos[i] = RedisMapping.ParseInfo((string)values[i]!);
        }
        return infos;
    }

    /// <summary>
    /// The index facts of the newest <paramref name="limit"/> live messages matching the query, ascending: the
    /// infos sorted set read backwards from the range's top (<c>ZREVRANGEBYSCORE … LIMIT</c>), a chunk per round
    /// trip until the page is full or the range is exhausted. Nothing is locked across the round trips; each one
    /// is checked against the session's generation.
    /// </summary>
    public async Task<IReadOnlyList<MessageInfo>> ReadNewestInfosAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        var key = _keys.Infos;
        var unfiltered = query.Since is null && query.Roles is null;
        // Unfiltered, the page is the chunk; filtered, a chunk may pass few (a role the session has little of), so
        // read at least ReadChunk at a time, doubling up to LargestInfoChunk, so a sparse match costs few round trips.
        var chunk = unfiltered ? Math.Max(limit, 1) : Math.Max(limit, ReadChunk);
        var page = new List<MessageInfo>(Math.Clamp(limit, 0, ReadChunk));
        var to = query.ToSequence;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var top = to;
            var values = await CheckedAsync(db => db.SortedSetRangeByScoreAsync(key, query.FromSequence, top, Exclude.None, Order.Descending, 0, chunk)).ConfigureAwait(false);
            for (var i = 0; i < values.Length && page.Count < limit; i++)
            {
                var info = RedisMapping.ParseInfo((string)values[i]!);
                to = info.Sequence - 1;
                if (query.Matches(info.Sequence, info.Timestamp, info.Role))
                {
                    page.Add(info);
                }
            }
            if (page.Count >= limit || values.Length < chunk || to < query.FromSequence)
            {
                break;
            }
            chunk = Math.Max(chunk, Math.Min(chunk * 2, LargestInfoChunk));
        }
        page.Reverse();
        return page;
    }

    /// <summary>The session's summaries, oldest first.</summary>
    public async Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync()
    {
        var key = _keys.Summaries;
        var values = await CheckedAsync(db => db.ListRangeAsync(key)).ConfigureAwait(false);
        var summaries = new ConversationSummary[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            summaries[i] = RedisMapping.SummaryFromJson(values[i]);
        }
        return summaries;
    }

    /// <summary>Runs a read pipelined behind a check that the session is still this generation.</summary>
    private Task<T> CheckedAsync<T>(Func<IDatabase, Task<T>> read) => _connection.Guard(async db =>
    {
        var alive = db.HashGetAsync(_keys.Meta, AliveFields);
        var value = read(db);
        await Task.WhenAll(alive, value).ConfigureAwait(false);
        var hash = await alive.ConfigureAwait(false);
        if (hash[0].IsNull || !string.Equals((string?)hash[1] ?? string.Empty, _generation, StringComparison.Ordinal))
        {
            throw new SessionNotFoundException(_sessionId);
        }
        return await value.ConfigureAwait(false);
    });

    /// <summary>The live messages with sequences in [from, to] in <paramref name="order"/>, at most <paramref name="limit"/>: one script, one round trip.</summary>
    private async Task<List<Message>> RangeAsync(string order, long from, long to, int limit)
    {
        RedisValue[] args = [_generation, order, from, to, limit];
        return Messages(await EvaluateAsync(RangeScript, args).ConfigureAwait(false));
    }

    /// <summary>The live messages with <paramref name="count"/> of the given sequences from <paramref name="start"/> on (ascending): one script, one round trip.</summary>
    private async Task<List<Message>> SequencesAsync(List<long> sequences, int start, int count)
    {
        var args = new RedisValue[1 + count];
        args[0] = _generation;
        for (var i = 0; i < count; i++)
        {
            args[1 + i] = sequences[start + i];
        }
        return Messages(await EvaluateAsync(SequencesScript, args).ConfigureAwait(false));
    }

    /// <summary>Runs a read script; a gone session (or another generation) throws <see cref="SessionNotFoundException"/>.</summary>
    private async Task<RedisResult[]> EvaluateAsync(RedisScript script, RedisValue[] args)
    {
        var r = (RedisResult[])(await _connection.EvaluateAsync(script, _keys.Session, args).ConfigureAwait(false))!;
        return (string)r[0]! == RedisSessionScripts.Ok ? r : throw new SessionNotFoundException(_sessionId);
    }

    /// <summary>The messages of a read script's answer (<c>'ok'</c>, then sequence and JSON pairs).</summary>
    private static List<Message> Messages(RedisResult[] r)
    {
        var list = new List<Message>((r.Length - 1) / 2);
        for (var i = 1; i + 1 < r.Length; i += 2)
        {
            list.Add(RedisMapping.MessageFromJson((RedisValue)r[i + 1], (long)r[i]));
        }
        return list;
    }
}
