namespace LangSwarm.Memory;

/// <summary>
/// Chooses which messages fit a token budget. Messages are grouped into blocks first, so that an assistant
/// turn with tool or function calls and the tool results that answer it are always kept or dropped together,
/// and a window never begins with a tool result whose call it does not hold.
/// </summary>
public static class ContextWindow
{
    /// <summary>
    /// Indexes (into <paramref name="infos"/>, ascending) of the newest contiguous blocks whose tokens fit
    /// in <paramref name="tokenLimit"/>.
    /// </summary>
    public static List<int> SelectNewest(IReadOnlyList<MessageInfo> infos, long tokenLimit) =>
        SelectNewest(infos, tokenLimit, out _);

    /// <summary>
    /// <see cref="SelectNewest(IReadOnlyList{MessageInfo}, long)"/>, and whether the walk stopped at a block that
    /// did not fit (<paramref name="stopped"/>). When it did, the same selection over any longer list that ends
    /// with <paramref name="infos"/> (older messages before them) is the same messages: the blocks after the one
    /// that did not fit are whole blocks of the longer list too, and that one is only larger there. When it did not,
    /// every message of <paramref name="infos"/> fitted, and older messages could change the selection.
    /// </summary>
    internal static List<int> SelectNewest(IReadOnlyList<MessageInfo> infos, long tokenLimit, out bool stopped)
    {
        ArgumentNullException.ThrowIfNull(infos);
        var result = new List<int>();
        stopped = infos.Count > 0;
        if (tokenLimit <= 0 || infos.Count == 0)
        {
            return result;
        }
        stopped = false;
        var blocks = Blocks(infos);
        long used = 0;
        var firstBlock = blocks.Count;
        for (var b = blocks.Count - 1; b >= 0; b--)
        {
            var (start, end, _) = blocks[b];
            long t = 0;
            for (var i = start; i < end; i++)
            {
                t += infos[i].TokenCount;
            }
            if (used + t > tokenLimit)
            {
                stopped = true;
                break;
            }
            used += t;
            firstBlock = b;
        }
        // Never open the window with a tool result whose call is not in it.
        while (firstBlock < blocks.Count && blocks[firstBlock].Orphan)
        {
            firstBlock++;
        }
        for (var b = firstBlock; b < blocks.Count; b++)
        {
            for (var i = blocks[b].Start; i < blocks[b].End; i++)
            {
                result.Add(i);
            }
        }
        return result;
    }

    /// <summary>
    /// The system messages a context keeps within <paramref name="tokenLimit"/>: newest first while they fit.
    /// The first one that does not fit (even the newest alone) is left out, and so is every older one, so the
    /// kept ones are the system messages from <c>FirstSequence</c> on.
    /// </summary>
    /// <returns>The sequence of the oldest kept system message (null: none kept) and the kept ones' tokens.</returns>
    public static (long? FirstSequence, long Tokens) SelectSystem(IReadOnlyList<MessageInfo> infos, long tokenLimit)
    {
        ArgumentNullException.ThrowIfNull(infos);
        long tokens = 0;
        long? first = null;
        for (var k = infos.Count - 1; k >= 0; k--)
        {
            var i = infos[k];
            if (i.Role != MessageRole.System)
            {
                continue;
            }
            if (tokens + i.TokenCount > tokenLimit)
            {
                break;
            }
            tokens += i.TokenCount;
            first = i.Sequence;
        }
        return (first, tokens);
    }

    /// <summary>
    /// Sequences of the oldest non-system blocks to evict so that the live window holds at most
    /// <paramref name="maxMessages"/> messages and <paramref name="maxTokens"/> tokens. System messages and the
    /// newest block always stay. The same as <see cref="SelectEvictions(IReadOnlyList{MessageInfo}, int, long, double)"/>
    /// with a low-water mark of 1 (evict just enough).
    /// </summary>
    public static List<long> SelectEvictions(IReadOnlyList<MessageInfo> infos, int maxMessages, long maxTokens) =>
        SelectEvictions(infos, maxMessages, maxTokens, 1.0);

    /// <summary>
    /// Sequences of the oldest non-system blocks to evict once the live window holds more than
    /// <paramref name="maxMessages"/> messages or more than <paramref name="maxTokens"/> tokens: whole blocks go,
    /// oldest first, until it holds at most <c>floor(lowWater × maxMessages)</c> messages and at most
    /// <c>floor(lowWater × maxTokens)</c> tokens, so the next eviction is a chunk of adds away. Nothing is
    /// evicted while both limits hold. System messages and the newest block always stay (so a window can stay
    /// above the low-water mark, or even a limit, when those alone exceed it).
    /// </summary>
    /// <param name="infos">The live messages, ascending.</param>
    /// <param name="maxMessages">The message limit that triggers eviction.</param>
    /// <param name="maxTokens">The token limit that triggers eviction.</param>
    /// <param name="lowWater">The fraction of each limit eviction goes down to, in (0, 1].</param>
    public static List<long> SelectEvictions(IReadOnlyList<MessageInfo> infos, int maxMessages, long maxTokens, double lowWater) =>
        SelectEvictions(infos, maxMessages, maxTokens, lowWater, long.MaxValue);

    /// <summary>
    /// As <see cref="SelectEvictions(IReadOnlyList{MessageInfo}, int, long, double)"/>, but only whole blocks whose
    /// messages all have sequences up to <paramref name="evictableThrough"/> go (what the summary chain covers):
    /// eviction stops before the first block that reaches past it.
    /// </summary>
    public static List<long> SelectEvictions(IReadOnlyList<MessageInfo> infos, int maxMessages, long maxTokens, double lowWater, long evictableThrough)
    {
        ArgumentNullException.ThrowIfNull(infos);
        if (!(lowWater > 0 && lowWater <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(lowWater), lowWater, "The low-water mark must be in (0, 1].");
        }
        var evict = new List<long>();
        long count = infos.Count;
        long tokens = 0;
        foreach (var i in infos)
        {
            tokens += i.TokenCount;
        }
        if (count <= maxMessages && tokens <= maxTokens)
        {
            return evict;
        }
        var messageTarget = LowWaterMark(maxMessages, lowWater);
        var tokenTarget = LowWaterMark(maxTokens, lowWater);
        var nonSystem = new List<MessageInfo>(infos.Count);
        foreach (var i in infos)
        {
            if (i.Role != MessageRole.System)
            {
                nonSystem.Add(i);
            }
        }
        var blocks = Blocks(nonSystem);
        for (var b = 0; b < blocks.Count - 1 && (count > messageTarget || tokens > tokenTarget); b++)
        {
            if (nonSystem[blocks[b].End - 1].Sequence > evictableThrough)
            {
                break;
            }
            for (var i = blocks[b].Start; i < blocks[b].End; i++)
            {
                evict.Add(nonSystem[i].Sequence);
                count--;
                tokens -= nonSystem[i].TokenCount;
            }
        }
        return evict;
    }

    /// <summary><c>floor(lowWater × limit)</c>: what eviction goes down to; exactly the limit at a low-water mark of 1.</summary>
    internal static long LowWaterMark(long limit, double lowWater) =>
        lowWater >= 1 ? limit : (long)Math.Floor(limit * lowWater);

    /// <summary>Splits messages into call blocks: [start, end) ranges, flagged when a tool result has no call before it.</summary>
    internal static List<(int Start, int End, bool Orphan)> Blocks(IReadOnlyList<MessageInfo> infos)
    {
        var blocks = new List<(int, int, bool)>();
        var i = 0;
        while (i < infos.Count)
        {
            var start = i;
            var isResult = IsResult(infos[i].Role);
            i++;
            if (infos[start].Role == MessageRole.Assistant && infos[start].HasCalls)
            {
                while (i < infos.Count && IsResult(infos[i].Role))
                {
                    i++;
                }
            }
            else if (isResult)
            {
                // Results with no call before them travel together as one orphan block.
                while (i < infos.Count && IsResult(infos[i].Role))
                {
                    i++;
                }
            }
            blocks.Add((start, i, isResult));
        }
        return blocks;
    }

    private static bool IsResult(MessageRole role) => role is MessageRole.Tool or MessageRole.Function;
}
