using System.Text;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The key layout of one namespace. Session keys look like <c>{prefix}:s:{escaped-id}:meta</c>: the escaped id sits
/// in braces, a Redis Cluster hash tag, so every key of one session lands in the same slot. Global index keys
/// (<c>{prefix}:idx:...</c>) live elsewhere.
/// </summary>
internal sealed class RedisKeys
{
    private readonly string _prefix;

    /// <summary>Creates the layout for a prefix.</summary>
    public RedisKeys(string prefix)
    {
        _prefix = prefix;
        TimeIndex = $"{prefix}:idx:time";
        Owners = $"{prefix}:idx:owners";
    }

    /// <summary>Sorted set of every session id, scored by last activity (milliseconds since year 1, UTC).</summary>
    public RedisKey TimeIndex { get; }

    /// <summary>Hash session id → owner marker, so an expired session can be taken out of its user index.</summary>
    public RedisKey Owners { get; }

    /// <summary>Hash of a session's metadata and counters.</summary>
    public RedisKey Meta(string sessionId) => SessionKey(sessionId, "meta");

    /// <summary>Sorted set of a session's live messages (JSON), scored by sequence.</summary>
    public RedisKey Messages(string sessionId) => SessionKey(sessionId, "msgs");

    /// <summary>Sorted set of compact index facts of each live message, scored by sequence.</summary>
    public RedisKey Infos(string sessionId) => SessionKey(sessionId, "info");

    /// <summary>List of a session's summaries (JSON), oldest first.</summary>
    public RedisKey Summaries(string sessionId) => SessionKey(sessionId, "sums");

    /// <summary>The four keys of a session, in the order the scripts expect.</summary>
    public RedisKey[] SessionKeys(string sessionId) => [Meta(sessionId), Messages(sessionId), Infos(sessionId), Summaries(sessionId)];

    /// <summary>Sorted set of the sessions in one status, scored like <see cref="TimeIndex"/>.</summary>
    public RedisKey StatusIndex(SessionStatus status) => $"{_prefix}:idx:status:{(int)status}";

    /// <summary>The three status indexes, by status value.</summary>
    public RedisKey[] StatusIndexes() => [StatusIndex(SessionStatus.Active), StatusIndex(SessionStatus.Archived), StatusIndex(SessionStatus.Expired)];

    /// <summary>Sorted set of one user's sessions (or of sessions without a user), scored like <see cref="TimeIndex"/>.</summary>
    public RedisKey UserIndex(string? userId) =>
        userId is null ? $"{_prefix}:idx:nouser" : $"{_prefix}:idx:user:{Escape(userId)}";

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
