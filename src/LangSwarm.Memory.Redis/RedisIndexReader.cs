using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// Reads index sorted sets: one or several shards, either every member in chunks (any order) or merged newest
/// first (the shards' heads read in one pipelined round trip, each shard refilled when its buffer runs out).
/// </summary>
internal sealed class RedisIndexReader
{
    private readonly RedisConnection _connection;

    /// <summary>Creates a reader over a connection.</summary>
    public RedisIndexReader(RedisConnection connection)
    {
        _connection = connection;
    }

    /// <summary>Every member of the given shards, in chunks, each shard lowest score first.</summary>
    public async IAsyncEnumerable<string[]> ChunksAsync(IReadOnlyList<RedisKey> shards, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var shard in shards)
        {
            await foreach (var chunk in ChunksAsync(shard, double.PositiveInfinity, cancellationToken).ConfigureAwait(false))
            {
                yield return chunk;
            }
        }
    }

    /// <summary>Every member of one index with a score up to <paramref name="max"/>, in chunks, lowest score first.</summary>
    public async IAsyncEnumerable<string[]> ChunksAsync(RedisKey index, double max, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Chunks are read by score from the bottom up, so entries purged between chunks never shift the next chunk.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var min = double.NegativeInfinity;
        var exclude = Exclude.None;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lo = min;
            var ex = exclude;
            var chunk = await _connection.Guard(db => db.SortedSetRangeByScoreWithScoresAsync(index, lo, max, ex, Order.Ascending, 0, RedisIndexes.Chunk)).ConfigureAwait(false);
            var ids = chunk.Select(e => (string)e.Element!).Where(seen.Add).ToArray();
            if (ids.Length > 0)
            {
                yield return ids;
            }
            if (chunk.Length < RedisIndexes.Chunk)
            {
                yield break;
            }
            var last = chunk[^1].Score;
            if (chunk[0].Score == last)
            {
                // A whole chunk with one score: read that score completely, then move past it.
                var same = await _connection.Guard(db => db.SortedSetRangeByScoreAsync(index, last, last)).ConfigureAwait(false);
                var rest = same.Select(v => (string)v!).Where(seen.Add).ToArray();
                if (rest.Length > 0)
                {
                    yield return rest;
                }
                min = last;
                exclude = Exclude.Start;
            }
            else
            {
                // Re-read the last score from its start next time; 'seen' drops the repeats.
                min = last;
                exclude = Exclude.None;
            }
        }
    }

    /// <summary>The members of the given shards merged, highest score first, read <paramref name="batch"/> per shard at a time.</summary>
    public async IAsyncEnumerable<SortedSetEntry> DescendingAsync(IReadOnlyList<RedisKey> shards, int batch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffers = new SortedSetEntry[shards.Count][];
        var positions = new int[shards.Count];
        var ranks = new long[shards.Count];
        var more = new bool[shards.Count];
        var first = await _connection.Guard(db => Task.WhenAll(shards.Select(k => db.SortedSetRangeByRankWithScoresAsync(k, 0, batch - 1, Order.Descending)))).ConfigureAwait(false);
        for (var i = 0; i < shards.Count; i++)
        {
            buffers[i] = first[i];
            ranks[i] = first[i].Length;
            more[i] = first[i].Length == batch;
        }
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var best = -1;
            for (var i = 0; i < shards.Count; i++)
            {
                if (positions[i] == buffers[i].Length && more[i])
                {
                    var key = shards[i];
                    var from = ranks[i];
                    var next = await _connection.Guard(db => db.SortedSetRangeByRankWithScoresAsync(key, from, from + batch - 1, Order.Descending)).ConfigureAwait(false);
                    // Members written meanwhile may shift ranks: a repeat is harmless (callers de-duplicate by id).
                    buffers[i] = next;
                    positions[i] = 0;
                    ranks[i] += next.Length;
                    more[i] = next.Length == batch;
                }
                if (positions[i] < buffers[i].Length && (best < 0 || buffers[i][positions[i]].Score > buffers[best][positions[best]].Score))
                {
                    best = i;
                }
            }
            if (best < 0)
            {
                yield break;
            }
            yield return buffers[best][positions[best]++];
        }
    }
}
