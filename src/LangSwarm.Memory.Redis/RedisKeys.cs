using System.Text;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The key layout of one namespace, built so that every script touches one Redis Cluster hash slot.
/// Session keys look like <c>{prefix}:s:{escaped-id}:meta</c>: the escaped id sits in braces (the hash tag), so
/// every key of one session shares a slot. The time and status indexes and the registry are split into
/// <see cref="Shards"/> shards, each shard's keys sharing the tag <c>{prefix/iN}</c>; a session belongs to the
/// shard its id hashes to. A user's index is one key tagged by the user (<c>{prefix/u:escaped-user}</c>).
/// </summary>
internal sealed class RedisKeys
{
    /// <summary>How many shards the time and status indexes are split into (fixed: changing it needs a repair pass).</summary>
    public const int Shards = 16;

    private readonly string _prefix;
    private readonly RedisKey[] _time;
    private readonly RedisKey[] _registry;
    private readonly RedisKey[][] _status;
    private readonly RedisKey[][] _shardKeys;

    /// <summary>Creates the layout for a prefix.</summary>
    public RedisKeys(string prefix)
    {
        _prefix = prefix;
        _time = new RedisKey[Shards];
        _registry = new RedisKey[Shards];
        _status = new RedisKey[3][];
        _shardKeys = new RedisKey[Shards][];
        for (var st = 0; st < 3; st++)
        {
            _status[st] = new RedisKey[Shards];
        }
        for (var i = 0; i < Shards; i++)
        {
            var tag = $"{prefix}:ix:{{{prefix}/i{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}";
            _time[i] = tag + ":time";
            _registry[i] = tag + ":reg";
            for (var st = 0; st < 3; st++)
            {
                _status[st][i] = tag + ":status:" + st.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            _shardKeys[i] = [_time[i], _status[0][i], _status[1][i], _status[2][i], _registry[i]];
        }
    }

    /// <summary>The shards of the time index: sorted sets of session ids scored by activity (milliseconds since year 1, UTC).</summary>
    public IReadOnlyList<RedisKey> TimeIndexes => _time;

    /// <summary>The shards of the registry: hashes session id → <c>gen|ver|status|owner</c> (what the shard's entries were written from).</summary>
    public IReadOnlyList<RedisKey> Registries => _registry;

    /// <summary>The shards of one status index, scored like the time index.</summary>
    public IReadOnlyList<RedisKey> StatusIndexes(SessionStatus status) => _status[(int)status];

    /// <summary>Every index key that is not a user index (for storage figures and clean-up).</summary>
    public IEnumerable<RedisKey> AllShardKeys() => _shardKeys.SelectMany(k => k);

    /// <summary>The shard a session id belongs to (FNV-1a of its UTF-16 code units, stable across processes).</summary>
    public static int ShardOf(string sessionId)
    {
        var h = 2166136261u;
        foreach (var c in sessionId)
        {
            h = (h ^ c) * 16777619u;
        }
        return (int)(h % Shards);
    }

    /// <summary>The keys of a shard, in the order the index scripts expect: time, status 0-2, registry.</summary>
    public RedisKey[] ShardKeys(string sessionId) => _shardKeys[ShardOf(sessionId)];

    /// <summary>Hash of a session's metadata and counters.</summary>
    public RedisKey Meta(string sessionId) => SessionKey(sessionId, "meta");

    /// <summary>
    /// Hash of a session's live messages: field the sequence, value the JSON. (Sessions written by earlier versions
    /// hold a sorted set of JSON scored by sequence here until their next add or eviction converts it.)
    /// </summary>
    public RedisKey Messages(string sessionId) => SessionKey(sessionId, "msgs");

    /// <summary>Sorted set of compact index facts of each live message, scored by sequence: also the order of the messages hash for range reads.</summary>
    public RedisKey Infos(string sessionId) => SessionKey(sessionId, "info");

    /// <summary>List of a session's summaries (JSON), oldest first.</summary>
    public RedisKey Summaries(string sessionId) => SessionKey(sessionId, "sums");

    /// <summary>The four keys of a session, in the order the scripts expect.</summary>
    public RedisKey[] SessionKeys(string sessionId) => [Meta(sessionId), Messages(sessionId), Infos(sessionId), Summaries(sessionId)];

    /// <summary>The pattern matching every session hash of the namespace (for the repair pass's SCAN).</summary>
    public string MetaPattern => $"{_prefix}:s:*:meta";

    /// <summary>Sorted set of one user's sessions (or of sessions without a user), scored like the time index.</summary>
    public RedisKey UserIndex(string? userId) =>
        userId is null ? $"{_prefix}:iu:{{{_prefix}/nouser}}" : $"{_prefix}:iu:{{{_prefix}/u:{Escape(userId)}}}";

    /// <summary>The user index named by an owner marker (an unknown marker maps to the no-user index, where removal is harmless).</summary>
    public RedisKey UserIndexForMarker(string marker) => UserIndex(UserFromMarker(marker));

    /// <summary>The owner marker stored for a user: <c>-</c> for none, <c>u:</c> and the id otherwise.</summary>
    public static string OwnerMarker(string? userId) => userId is null ? "-" : "u:" + userId;

    /// <summary>The user of an owner marker (null for none or unknown).</summary>
    public static string? UserFromMarker(string marker) => marker.StartsWith("u:", StringComparison.Ordinal) ? marker[2..] : null;

    /// <summary>
    /// Escapes an id for use inside a key: <c>%</c>, <c>{</c>, <c>}</c>, <c>:</c>, space and control characters become
    /// <c>%XX</c> of their UTF-8 bytes. Since <c>%</c> itself is escaped the mapping is injective (two ids never share
    /// keys), and no escaped id can close the hash tag early.
    /// </summary>
    public static string Escape(string id)
    {
        var needs = false;
        foreach (var c in id)
        {
            if (NeedsEscape(c))
            {
                needs = true;
                break;
            }
        }
        if (!needs)
        {
            return id;
        }
        var sb = new StringBuilder(id.Length + 8);
        foreach (var c in id)
        {
            if (NeedsEscape(c))
            {
                sb.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    private RedisKey SessionKey(string sessionId, string part) => $"{_prefix}:s:{{{Escape(sessionId)}}}:{part}";

    // Every escaped character is ASCII, so its UTF-8 byte equals its code and two hex digits suffice.
    private static bool NeedsEscape(char c) => c is '%' or '{' or '}' or ':' or ' ' or < (char)0x20 or (char)0x7F;
}
