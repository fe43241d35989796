namespace LangSwarm.Memory;

/// <summary>
/// A session's message infos as a token-budgeted window needs them: read newest first through
/// <see cref="ISessionHandle.ReadNewestMessageInfosAsync"/>, a page at a time (64 infos, doubling up to 4,096),
/// and only as far back as the windows asked of it reach. A context of a long conversation reads the few pages
/// its budget covers instead of every info of the session.
/// </summary>
/// <param name="handle">The session.</param>
/// <param name="includeSystem">False to leave system messages out of the infos (a context places them apart).</param>
internal sealed class NewestInfoPages(ISessionHandle handle, bool includeSystem)
{
    /// <summary>Infos read by the first page.</summary>
    public const int FirstPage = 64;

    /// <summary>Infos read by a page at most (each page reads twice its predecessor's up to this).</summary>
    public const int LargestPage = 4_096;

    private List<MessageInfo> _loaded = [];
    private long _nextTo = long.MaxValue;
    private int _pageSize = FirstPage;

    /// <summary>True once the oldest message was read: <see cref="Loaded"/> holds every info (of the roles kept).</summary>
    public bool Complete { get; private set; }

    /// <summary>The infos read so far, ascending: the newest ones of the session.</summary>
    public List<MessageInfo> Loaded => _loaded;

    /// <summary>
    /// <see cref="ContextWindow.SelectNewest(IReadOnlyList{MessageInfo}, long)"/> over the infos with sequences above
    /// <paramref name="after"/> (<see cref="long.MinValue"/>: all), reading older pages until the answer is the one
    /// the whole list would give: the walk stopped at a block that did not fit, or no older info is left.
    /// </summary>
    /// <returns>
    /// The list the indexes point into (a newest part of the infos above <paramref name="after"/>), the indexes, and
    /// whether a block was left out because it did not fit (when false, the list holds every info above
    /// <paramref name="after"/>).
    /// </returns>
    public async Task<(List<MessageInfo> Infos, List<int> Picked, bool Stopped)> SelectNewestAsync(long after, long tokenLimit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var reachesBack = Complete || (_loaded.Count > 0 && _loaded[0].Sequence <= after);
            var infos = _loaded.Count > 0 && _loaded[0].Sequence <= after ? Above(after) : _loaded;
            var picked = ContextWindow.SelectNewest(infos, tokenLimit, out var stopped);
            if (stopped || reachesBack)
            {
                return (infos, picked, stopped);
            }
            await ReadOlderAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the next older page and puts its infos (of the roles kept) before those read so far.</summary>
    private async Task ReadOlderAsync(CancellationToken cancellationToken)
    {
        var page = await handle.ReadNewestMessageInfosAsync(new MessageQuery { ToSequence = _nextTo }, _pageSize, cancellationToken).ConfigureAwait(false);
        if (page.Count < _pageSize)
        {
            Complete = true;
        }
        if (page.Count == 0)
        {
            return;
        }
        _nextTo = page[0].Sequence - 1;
        _pageSize = Math.Min(_pageSize * 2, LargestPage);
        var merged = new List<MessageInfo>(page.Count + _loaded.Count);
        for (var i = 0; i < page.Count; i++)
        {
            if (includeSystem || page[i].Role != MessageRole.System)
            {
                merged.Add(page[i]);
            }
        }
        merged.AddRange(_loaded);
        _loaded = merged;
    }

    private List<MessageInfo> Above(long after)
    {
        var above = new List<MessageInfo>(_loaded.Count);
        foreach (var i in _loaded)
        {
            if (i.Sequence > after)
            {
                above.Add(i);
            }
        }
        return above;
    }
}
