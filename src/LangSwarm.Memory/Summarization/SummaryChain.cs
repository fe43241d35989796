using System.Diagnostics;

namespace LangSwarm.Memory;

/// <summary>
/// The running summary chain of a session. Each new summary folds the previous one and exactly the non-system
/// messages after it (up to its own end), so the newest summary covers the conversation from its first
/// non-system message to its end with no gap, and each stored summary records that range
/// (<see cref="ConversationSummary.FirstSequence"/>..<see cref="ConversationSummary.LastSequence"/>).
/// </summary>
internal static class SummaryChain
{
    /// <summary>True when the session summarizes by itself (not Manual, threshold above 0).</summary>
    public static bool Automatic(SessionMetadata m) =>
        m.SummaryStrategy != SummaryStrategy.Manual && m.AutoSummarizeThreshold > 0;

    /// <summary>
    /// True when the background summarizer has work for the session: it is over a limit (a chunk must be
    /// summarized and evicted), or <c>AutoSummarizeThreshold</c> messages arrived since the chain's end.
    /// </summary>
    public static bool Due(in SessionSnapshot s) =>
        Automatic(s.Metadata) && (s.OverLimits || ThresholdReached(s));

    /// <summary>True when <c>AutoSummarizeThreshold</c> messages arrived since the chain's end (a link is owed).</summary>
    public static bool ThresholdReached(in SessionSnapshot s) =>
        s.LastSequence - s.SummarizedThrough >= s.Metadata.AutoSummarizeThreshold;

    /// <summary>The type an automatic summary is stored with: Periodic under that strategy, else Auto.</summary>
    public static SummaryType AutomaticType(SessionMetadata m) =>
        m.SummaryStrategy == SummaryStrategy.Periodic ? SummaryType.Periodic : SummaryType.Auto;

    /// <summary>
    /// Makes (does not store) the chain's next summary through <paramref name="through"/>: the previous summary's
    /// text and the live non-system messages after <paramref name="state"/>'s summarized-through mark. Null when
    /// there are no such messages. Calls the summarizer (measured and traced for <paramref name="backend"/>):
    /// never call it holding a session lock.
    /// </summary>
    public static async Task<ConversationSummary?> MakeAsync(
        ISessionHandle handle,
        ISummarizer summarizer,
        SessionSnapshot state,
        long through,
        SummaryType type,
        MemoryBackendBase backend,
        CancellationToken cancellationToken)
    {
        var fresh = new List<Message>();
        var query = new MessageQuery { FromSequence = state.SummarizedThrough + 1, ToSequence = through };
        await foreach (var m in handle.ReadMessagesAsync(query, cancellationToken).ConfigureAwait(false))
        {
            if (m.Role != MessageRole.System)
            {
                fresh.Add(m);
            }
        }
        if (fresh.Count == 0)
        {
            return null;
        }
        var previous = await NewestAsync(handle, state.SummarizedThrough, cancellationToken).ConfigureAwait(false);
        var text = await SummarizeMeasuredAsync(summarizer, fresh, previous?.SummaryText, backend.Name, handle.SessionId, cancellationToken).ConfigureAwait(false);
        text ??= string.Empty;
        MemoryLimits.ValidateSummaryText(text);
        var clock = backend.Clock;
        long tokens = previous?.TokenCount ?? 0;
        foreach (var m in fresh)
        {
            tokens += m.TokenCount ?? 0;
        }
        return new ConversationSummary
        {
            SessionId = handle.SessionId,
            SummaryText = text,
            MessageCount = fresh.Count + (previous?.MessageCount ?? 0),
            TokenCount = (int)Math.Min(int.MaxValue, tokens),
            CreatedAt = clock.GetUtcNow(),
            SummaryType = type,
            FirstSequence = previous?.FirstSequence ?? fresh[0].Sequence,
            LastSequence = Math.Max(through == long.MaxValue ? fresh[^1].Sequence : through, fresh[^1].Sequence),
        };
    }

    private static async Task<string> SummarizeMeasuredAsync(ISummarizer summarizer, List<Message> fresh, string? previous, string backend, string sessionId, CancellationToken cancellationToken)
    {
        var tag = MemoryTelemetry.Backend(backend);
        var started = Stopwatch.GetTimestamp();
        using var span = MemoryTelemetry.StartSessionSpan(MemoryTelemetry.Spans.Summarize, backend, sessionId);
        span?.SetTag("langswarm.memory.messages", fresh.Count);
        MemoryTelemetry.SummarizerCallsCounter.Add(1, tag);
        try
        {
            return await summarizer.SummarizeAsync(fresh, previous, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            MemoryTelemetry.SummarizerFailuresCounter.Add(1, tag, new KeyValuePair<string, object?>("error.type", ex.GetType().FullName));
            MemoryTelemetry.Fail(span, ex);
            throw;
        }
        finally
        {
            MemoryTelemetry.SummarizerDurationHistogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tag);
        }
    }

    /// <summary>The chain's newest link: the newest summary ending at <paramref name="summarizedThrough"/> (null: none).</summary>
    private static async Task<ConversationSummary?> NewestAsync(ISessionHandle handle, long summarizedThrough, CancellationToken cancellationToken)
    {
        if (summarizedThrough <= 0)
        {
            return null;
        }
        var all = await handle.ReadSummariesAsync(cancellationToken).ConfigureAwait(false);
        for (var i = all.Count - 1; i >= 0; i--)
        {
            if (all[i].LastSequence <= summarizedThrough)
            {
                return all[i];
            }
        }
        return null;
    }
}
