namespace LangSwarm.Memory;

/// <summary>Newest-first pages of message infos over a list a store already holds (ascending by sequence).</summary>
internal static class MessageInfoPages
{
    /// <summary>
    /// <see cref="ISessionHandle.ReadNewestMessageInfosAsync"/> for a store that does not answer it itself: reads
    /// every info and keeps the newest matches.
    /// </summary>
    public static async Task<IReadOnlyList<MessageInfo>> NewestOfAllAsync(ISessionHandle handle, MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        var all = await handle.ReadMessageInfosAsync(cancellationToken).ConfigureAwait(false);
        return NewestOf(all, query, limit);
    }

    /// <summary>The newest <paramref name="limit"/> infos of <paramref name="ascending"/> matching <paramref name="query"/>, ascending.</summary>
    public static List<MessageInfo> NewestOf(IReadOnlyList<MessageInfo> ascending, MessageQuery query, int limit)
    {
        ArgumentNullException.ThrowIfNull(ascending);
        ArgumentNullException.ThrowIfNull(query);
        var page = new List<MessageInfo>(Math.Clamp(limit, 0, 256));
        for (var i = ascending.Count - 1; i >= 0 && page.Count < limit; i--)
        {
            var info = ascending[i];
            if (info.Sequence < query.FromSequence)
            {
                break;
            }
            if (query.Matches(info.Sequence, info.Timestamp, info.Role))
            {
                page.Add(info);
            }
        }
        page.Reverse();
        return page;
    }
}
