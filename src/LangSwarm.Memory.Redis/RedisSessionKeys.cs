using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The keys of one session, built once when its handle is made, so no call builds a key string: its own four keys
/// (one hash slot) and the array the write scripts take (<see cref="RedisSessionScripts"/>).
/// </summary>
internal sealed class RedisSessionKeys
{
    /// <summary>Builds the keys of <paramref name="sessionId"/> in <paramref name="layout"/>.</summary>
    public RedisSessionKeys(RedisKeys layout, string sessionId)
    {
        Meta = layout.Meta(sessionId);
        Messages = layout.Messages(sessionId);
        Infos = layout.Infos(sessionId);
        Summaries = layout.Summaries(sessionId);
        Session = [Meta, Messages, Infos, Summaries];
    }

    /// <summary>The session hash.</summary>
    public RedisKey Meta { get; }

    /// <summary>The messages hash (sequence → JSON; a sorted set in sessions of the earlier layout).</summary>
    public RedisKey Messages { get; }

    /// <summary>The sorted set of message facts.</summary>
    public RedisKey Infos { get; }

    /// <summary>The list of summaries.</summary>
    public RedisKey Summaries { get; }

    /// <summary>The four session keys (meta, msgs, info, sums): the keys of every write script.</summary>
    public RedisKey[] Session { get; }
}
