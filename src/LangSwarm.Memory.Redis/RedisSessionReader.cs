using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// Reads one session's messages, message facts and summaries for its handle. The first command of every read goes
/// out pipelined with a check of the session hash (same round trip), so reading a removed session — or one created
/// again under the id — throws <see cref="SessionNotFoundException"/> instead of answering empty.
/// </summary>
internal sealed class RedisSessionReader
{
    private const int ReadChunk = 256;
    private const int MaxRunsPerRoundTrip = 32;

    private static readonly RedisValue[] AliveFields = [RedisMapping.FSessionId, RedisMapping.FGeneration];

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
            var key = _keys.Messages;
            var from = query.FromSequence;
            var first = true;
            while (from <= query.ToSequence)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var start = from;
                Func<IDatabase, Task<RedisValue[]>> read = db => db.SortedSetRangeByScoreAsync(key, start, query.ToSequence, Exclude.None, Order.Ascending, 0, ReadChunk);
                var chunk = first ? await CheckedAsync(read).ConfigureAwait(false) : await _connection.Guard(read).ConfigureAwait(false);
                first = false;
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

        var infos = await ReadInfosAsync(query.FromSequence, query.ToSequence).ConfigureAwait(false);
        var wanted = new List<int>();
        for (var i = 0; i < infos.Count; i++)
        {
            if (query.Matches(infos[i].Sequence, infos[i].Timestamp, infos[i].Role))
            {
                wanted.Add(i);
            }
        }
        await foreach (var m in FetchPositionsAsync(infos, wanted, cancellationToken).ConfigureAwait(false))
        {
            yield return m;
        }
    }

    /// <summary>The newest <paramref name="limit"/> live messages matching the query, ascending.</summary>
    public async Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        if (query.Since is null && query.Roles is null)
        {
            var key = _keys.Messages;
            var newest = limit <= 0
                ? await CheckedAsync(_ => Task.FromResult(Array.Empty<RedisValue>())).ConfigureAwait(false)
                : await CheckedAsync(db => db.SortedSetRangeByScoreAsync(key, query.FromSequence, query.ToSequence, Exclude.None, Order.Descending, 0, limit)).ConfigureAwait(false);
            var list = new Message[newest.Length];
            for (var i = 0; i < newest.Length; i++)
            {
                list[newest.Length - 1 - i] = RedisMapping.MessageFromJson(newest[i]);
            }
            return list;
        }
        var infos = await ReadInfosAsync(query.FromSequence, query.ToSequence).ConfigureAwait(false);
        var wanted = new List<int>();
        for (var i = infos.Count - 1; i >= 0 && wanted.Count < limit; i--)
        {
            if (query.Matches(infos[i].Sequence, infos[i].Timestamp, infos[i].Role))
            {
                wanted.Add(i);
            }
        }
        wanted.Reverse();
        var messages = new List<Message>(wanted.Count);
        await foreach (var m in FetchPositionsAsync(infos, wanted, cancellationToken).ConfigureAwait(false))
        {
            messages.Add(m);
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

    /// <summary>
    /// Fetches the messages at the given positions of <paramref name="infos"/> (ascending), reading each run of adjacent
    /// positions as one score range and pipelining several runs per round trip.
    /// </summary>
    private async IAsyncEnumerable<Message> FetchPositionsAsync(IReadOnlyList<MessageInfo> infos, List<int> positions, [EnumeratorCancellation] CancellationToken cancellationToken)
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
        var key = _keys.Messages;
        for (var r = 0; r < runs.Count; r += MaxRunsPerRoundTrip)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var group = runs.Skip(r).Take(MaxRunsPerRoundTrip).ToList();
            var results = await _connection.Guard(db => Task.WhenAll(group.Select(g => db.SortedSetRangeByScoreAsync(key, g.From, g.To)))).ConfigureAwait(false);
            foreach (var values in results)
            {
                foreach (var v in values)
                {
                    yield return RedisMapping.MessageFromJson(v);
                }
            }
        }
    }
}
