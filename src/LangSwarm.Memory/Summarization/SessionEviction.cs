namespace LangSwarm.Memory;

/// <summary>Takes the oldest non-system blocks out of a session's live window once it is over a limit.</summary>
internal static class SessionEviction
{
    /// <summary>Most messages one locked eviction step takes.</summary>
    private const int Step = 256;

    /// <summary>
    /// Evicts down to the session's low-water mark, whole blocks with sequences up to
    /// <paramref name="evictableThrough"/> only. Call holding the session's lock. True when something was evicted.
    /// </summary>
    public static async Task<bool> EvictAsync(ISessionHandle handle, long evictableThrough, CancellationToken cancellationToken)
    {
        var evict = await ChooseAsync(handle, handle.State, evictableThrough, cancellationToken).ConfigureAwait(false);
        if (evict.Count == 0)
        {
            return false;
        }
        await handle.EvictAsync(evict, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Evicts what the summary chain covers down to the low-water mark: chosen from the window with no lock
    /// held, then taken in steps of at most <see cref="Step"/> messages, each under the session's lock (a
    /// sequence evicted meanwhile is ignored by the store, so a stale choice costs nothing). Returns true when
    /// something was evicted.
    /// </summary>
    public static async Task<bool> EvictCoveredAsync(SessionLink link, CancellationToken cancellationToken)
    {
        var handle = link.Handle;
        var st = handle.State;
        var evict = await ChooseAsync(handle, st, st.SummarizedThrough, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < evict.Count; i += Step)
        {
            // A step may end inside a call block; the next step takes the rest, and a context read between
            // the two never opens its window with a result whose call is gone (ContextWindow skips those).
            await link.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (link.Closed)
                {
                    return i > 0;
                }
                await handle.EvictAsync(evict.GetRange(i, Math.Min(Step, evict.Count - i)), CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                link.Gate.Release();
            }
        }
        return evict.Count > 0;
    }

    /// <summary>True when eviction would need the chain to reach past its end first (a summary is owed).</summary>
    public static async Task<bool> OwesSummaryAsync(ISessionHandle handle, SessionSnapshot st, CancellationToken cancellationToken)
    {
        var evict = await ChooseAsync(handle, st, long.MaxValue, cancellationToken).ConfigureAwait(false);
        return evict.Count > 0 && evict[^1] > st.SummarizedThrough;
    }

    /// <summary>
    /// The sequences eviction takes from the window as it is now (<see cref="ContextWindow.SelectEvictions(IReadOnlyList{MessageInfo}, int, long, double, long)"/>);
    /// none, without reading the window, while <paramref name="st"/> is within its limits.
    /// </summary>
    private static async Task<List<long>> ChooseAsync(ISessionHandle handle, SessionSnapshot st, long evictableThrough, CancellationToken cancellationToken)
    {
        if (!st.OverLimits)
        {
            return [];
        }
        var m = st.Metadata;
        var infos = await handle.ReadMessageInfosAsync(cancellationToken).ConfigureAwait(false);
        return ContextWindow.SelectEvictions(infos, m.MaxMessages, m.MaxTokens, m.EvictionLowWater, evictableThrough);
    }
}
