using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The global indexes of a namespace (time, status, user, owners): reads them in chunks, removes sessions from them,
/// and takes out the entries of sessions that expired (met lazily by listing, clean-up and statistics).
/// </summary>
internal sealed class RedisIndexes
{
    /// <summary>Index members read per round trip.</summary>
    public const int Chunk = 512;

    private readonly RedisConnection _connection;
    private readonly RedisKeys _keys;

    /// <summary>Creates the index access of a namespace.</summary>
    public RedisIndexes(RedisConnection connection, RedisKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    /// <summary>Removes a session and its index entries; in ghost mode only when its hash is gone (expired).</summary>
    /// <returns><c>deleted</c>, <c>absent</c> or <c>alive</c> (ghost mode, the session exists).</returns>
    public async Task<string> RemoveAsync(string sessionId, bool ghostOnly)
    {
        var meta = _keys.Meta(sessionId);
        var owner = await _connection.Guard(db => db.HashGetAsync(meta, RedisMapping.FOwner)).ConfigureAwait(false);
        if (owner.IsNull)
        {
            owner = await _connection.Guard(db => db.HashGetAsync(_keys.Owners, sessionId)).ConfigureAwait(false);
        }
        var expected = owner.IsNull ? string.Empty : (string)owner!;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            RedisKey[] keys = [.. _keys.SessionKeys(sessionId), _keys.TimeIndex, .. _keys.StatusIndexes(), _keys.Owners, _keys.UserIndexForMarker(expected)];
            RedisValue[] args = [sessionId, expected, ghostOnly ? "ghost" : "delete"];
            var result = (string)(await _connection.Guard(db => db.ScriptEvaluateAsync(RedisScripts.RemoveSession, keys, args)).ConfigureAwait(false))!;
            if (!result.StartsWith(RedisScripts.RetryPrefix, StringComparison.Ordinal))
            {
                return result;
            }
            expected = result[RedisScripts.RetryPrefix.Length..];
        }
        throw new MemoryException($"Session '{sessionId}' kept changing owner while being removed.");
    }

    /// <summary>Takes index entries of expired sessions out of every index (skipping any re-created meanwhile).</summary>
    public async Task PurgeGhostsAsync(List<string> ghosts, CancellationToken cancellationToken)
    {
        foreach (var id in ghosts.Distinct(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await RemoveAsync(id, ghostOnly: true).ConfigureAwait(false);
        }
    }

    /// <summary>Every member of an index, in chunks, lowest score first.</summary>
    public async IAsyncEnumerable<string[]> ChunksAsync(RedisKey index, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Chunks are read by score from the bottom up, so entries purged between chunks never shift the next chunk.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        double min = double.NegativeInfinity;
        var exclude = Exclude.None;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lo = min;
            var ex = exclude;
            var chunk = await _connection.Guard(db => db.SortedSetRangeByScoreWithScoresAsync(index, lo, double.PositiveInfinity, ex, Order.Ascending, 0, Chunk)).ConfigureAwait(false);
            var ids = chunk.Select(e => (string)e.Element!).Where(seen.Add).ToArray();
            if (ids.Length > 0)
            {
                yield return ids;
            }
            if (chunk.Length < Chunk)
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
}
