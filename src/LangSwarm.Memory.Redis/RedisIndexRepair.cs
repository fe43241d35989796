using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The repair pass: scans every primary for the namespace's session hashes (<c>SCAN</c>, the one place the backend
/// walks the keyspace) and writes each session's index entries again from its hash. It restores entries an index
/// write lost (a failure after the session write, a failover between the two) and builds the sharded indexes for
/// data written by the single-primary layout of earlier versions. Stale entries need no pass: readers drop them.
/// </summary>
internal sealed class RedisIndexRepair
{
    private const int PageSize = 512;

    private static readonly RedisValue[] Fields =
        [RedisMapping.FSessionId, RedisMapping.FGeneration, RedisMapping.FVersion, RedisMapping.FUpdatedAt, RedisMapping.FStatus, RedisMapping.FOwner];

    private readonly RedisConnection _connection;
    private readonly RedisKeys _keys;
    private readonly RedisIndexes _indexes;

    /// <summary>Creates the repair pass of a namespace.</summary>
    public RedisIndexRepair(RedisConnection connection, RedisKeys keys, RedisIndexes indexes)
    {
        _connection = connection;
        _keys = keys;
        _indexes = indexes;
    }

    /// <summary>Re-indexes every session of the namespace; returns how many were indexed.</summary>
    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        long count = 0;
        var db = _connection.Database;
        foreach (var server in _connection.Primaries())
        {
            await foreach (var key in server.KeysAsync(db.Database, _keys.MetaPattern, PageSize).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var h = await _connection.Guard(d => d.HashGetAsync(key, Fields)).ConfigureAwait(false);
                if (h[0].IsNull || h[3].IsNull)
                {
                    continue;
                }
                var id = (string)h[0]!;
                var owner = h[5].IsNull ? RedisKeys.OwnerMarker(null) : (string)h[5]!;
                var score = RedisMapping.Score(new DateTimeOffset((long)h[3], TimeSpan.Zero));
                await _indexes.PutAsync(id, h[1].IsNull ? string.Empty : (string)h[1]!, h[2].IsNull ? 0 : (long)h[2], score, (int)h[4], owner).ConfigureAwait(false);
                count++;
            }
        }
        return count;
    }
}
