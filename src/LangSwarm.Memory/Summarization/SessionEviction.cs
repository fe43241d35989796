namespace LangSwarm.Memory;

/// <summary>Takes the oldest non-system blocks out of a session's live window once it is over a limit.</summary>
internal static class SessionEviction
{
    /// <summary>
    /// Evicts down to the session's low-water mark (<see cref="ContextWindow.SelectEvictions(IReadOnlyList{MessageInfo}, int, long, double, long)"/>),
    /// whole blocks with sequences up to <paramref name="evictableThrough"/> only (what the summary chain covers).
    /// Call holding the session's lock. Returns true when something was evicted.
    /// </summary>
    public static async Task<bool> EvictAsync(ISessionHandle handle, long evictableThrough, CancellationToken cancellationToken)
    {
        var st = handle.State;
        if (!st.OverLimits)
        {
            return false;
        }
        var m = st.Metadata;
        var infos = await handle.ReadMessageInfosAsync(cancellationToken).ConfigureAwait(false);
        var evict = ContextWindow.SelectEvictions(infos, m.MaxMessages, m.MaxTokens, m.EvictionLowWater, evictableThrough);
        if (evict.Count == 0)
        {
            return false;
        }
        await handle.EvictAsync(evict, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>True when eviction would need the chain to reach past its end first (a summary is owed).</summary>
    public static async Task<bool> OwesSummaryAsync(ISessionHandle handle, SessionSnapshot st, CancellationToken cancellationToken)
    {
        if (!st.OverLimits)
        {
            return false;
        }
        var m = st.Metadata;
        var infos = await handle.ReadMessageInfosAsync(cancellationToken).ConfigureAwait(false);
        var evict = ContextWindow.SelectEvictions(infos, m.MaxMessages, m.MaxTokens, m.EvictionLowWater);
        return evict.Count > 0 && evict[^1] > st.SummarizedThrough;
    }
}
