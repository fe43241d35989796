using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The keys of one session, built once when its handle is made, so no call builds a key string: its own four keys
/// and the key arrays the write scripts take (<see cref="RedisSessionScripts"/>).
/// </summary>
internal sealed class RedisSessionKeys
{
    private readonly RedisKeys _layout;

    /// <summary>Builds the keys of <paramref name="sessionId"/> in <paramref name="layout"/>, with the user index of <paramref name="userId"/>.</summary>
    public RedisSessionKeys(RedisKeys layout, string sessionId, string? userId)
    {
        _layout = layout;
        Meta = layout.Meta(sessionId);
        Messages = layout.Messages(sessionId);
        Infos = layout.Infos(sessionId);
        Summaries = layout.Summaries(sessionId);
        Session = [Meta, Messages, Infos, Summaries];
        Owner = RedisKeys.OwnerMarker(userId);
        Append = [Meta, Messages, Infos, Summaries, layout.TimeIndex, .. layout.StatusIndexes(), layout.UserIndex(userId)];
    }

    /// <summary>The session hash.</summary>
    public RedisKey Meta { get; }

    /// <summary>The sorted set of message JSON.</summary>
    public RedisKey Messages { get; }

    /// <summary>The sorted set of message facts.</summary>
    public RedisKey Infos { get; }

    /// <summary>The list of summaries.</summary>
    public RedisKey Summaries { get; }

    /// <summary>The four session keys (meta, msgs, info, sums): the keys of the evict and summary scripts.</summary>
    public RedisKey[] Session { get; }

    /// <summary>The owner marker the user index below belongs to.</summary>
    public string Owner { get; private set; }

    /// <summary>The keys of the append script: the session keys, the time and status indexes, the user index.</summary>
    public RedisKey[] Append { get; private set; }

    /// <summary>The keys of the create and save scripts, moving the session from the index of <paramref name="storedOwner"/> to <paramref name="newUserId"/>'s.</summary>
    public RedisKey[] Write(string? newUserId, string storedOwner) =>
        [Meta, Messages, Infos, Summaries, _layout.TimeIndex, .. _layout.StatusIndexes(), _layout.Owners, _layout.UserIndex(newUserId), _layout.UserIndexForMarker(storedOwner)];

    /// <summary>Points the append keys at another owner's user index (after the stored owner was found to differ).</summary>
    public void MoveTo(string owner)
    {
        if (owner == Owner)
        {
            return;
        }
        var append = (RedisKey[])Append.Clone();
        append[^1] = _layout.UserIndexForMarker(owner);
        Append = append;
        Owner = owner;
    }
}
