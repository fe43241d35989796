namespace LangSwarm.Memory;

/// <summary>
/// Builds the context an LLM call sees (<see cref="IMemorySession.GetConversationContextAsync"/>), within a
/// token budget that is a promise: the result never holds more tokens than the budget by the backend's counter.
/// </summary>
/// <remarks>
/// <para>The context is, in order: the system messages that fit (newest first; when they alone exceed the budget,
/// the oldest are left out); then, when older conversation is left out of the window, one summary; then the
/// window, the newest non-system messages that fit in what is left, whole tool-call blocks only.</para>
/// <para>The summary is the newest one of the session's chain that ends before the window's first message, so
/// nothing it covers is repeated in the window. The chain covers the conversation from its start to the
/// summary's end, and automatic summaries are made every <c>AutoSummarizeThreshold</c> messages, so at most
/// about that many messages lie between the summary's end and the window. When every summary reaches into the
/// window, the newest one is used and the window starts after its end; when no message follows it, no summary
/// is used (the newest messages always stay). Until a summary exists, the context holds the newest messages
/// only.</para>
/// <para>The session is read newest first (<see cref="NewestInfoPages"/>): the system messages by role, the
/// others a page at a time until the budget is spent, so a context of a long conversation costs what its window
/// needs, not the session's length. The choice is the one a pass over every info would make.</para>
/// </remarks>
internal static class ConversationContext
{
    public static async Task<IReadOnlyList<Message>> BuildAsync(ISessionHandle handle, ITokenCounter counter, int maxTokens, CancellationToken cancellationToken)
    {
        var (firstSystem, systemTokens) = await SelectSystemAsync(handle, maxTokens, cancellationToken).ConfigureAwait(false);
        var budget = maxTokens - systemTokens;
        var rest = new NewestInfoPages(handle, includeSystem: false);
        var (window, picked, stopped) = await rest.SelectNewestAsync(long.MinValue, budget, cancellationToken).ConfigureAwait(false);
        Message? summaryMessage = null;
        var st = handle.State;
        // Something is left out when a block did not fit, when the (then complete) window dropped a leading tool
        // result, or when messages were evicted (the store's counters: fewer live messages than sequences).
        var leftOut = stopped || picked.Count < window.Count || st.LastSequence > st.LiveMessages;
        if (leftOut)
        {
            var summaries = await handle.ReadSummariesAsync(cancellationToken).ConfigureAwait(false);
            if (summaries.Count > 0)
            {
                (summaryMessage, window, picked) = await ChooseAsync(summaries, rest, window, picked, budget, counter, cancellationToken).ConfigureAwait(false);
            }
        }

        var result = new List<Message>(picked.Count + 8);
        if (firstSystem is { } fromSystem)
        {
            var roles = new[] { MessageRole.System };
            await foreach (var m in handle.ReadMessagesAsync(new MessageQuery { Roles = roles, FromSequence = fromSystem }, cancellationToken).ConfigureAwait(false))
            {
                result.Add(m);
            }
        }
        if (summaryMessage is not null)
        {
            result.Add(summaryMessage);
        }
        if (picked.Count > 0)
        {
            var query = new MessageQuery { FromSequence = window[picked[0]].Sequence, ToSequence = window[picked[^1]].Sequence };
            await foreach (var m in handle.ReadMessagesAsync(query, cancellationToken).ConfigureAwait(false))
            {
                if (m.Role != MessageRole.System)
                {
                    result.Add(m);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// <see cref="ContextWindow.SelectSystem"/> over the system messages read newest first by role, a page at a
    /// time, stopping at the first that does not fit.
    /// </summary>
    private static async Task<(long? FirstSequence, long Tokens)> SelectSystemAsync(ISessionHandle handle, long tokenLimit, CancellationToken cancellationToken)
    {
        var roles = new[] { MessageRole.System };
        long tokens = 0;
        long? first = null;
        var to = long.MaxValue;
        var size = NewestInfoPages.FirstPage;
        while (true)
        {
            var page = await handle.ReadNewestMessageInfosAsync(new MessageQuery { Roles = roles, ToSequence = to }, size, cancellationToken).ConfigureAwait(false);
            for (var k = page.Count - 1; k >= 0; k--)
            {
                var i = page[k];
                if (i.Role != MessageRole.System)
                {
                    continue;
                }
                if (tokens + i.TokenCount > tokenLimit)
                {
                    return (first, tokens);
                }
                tokens += i.TokenCount;
                first = i.Sequence;
            }
            if (page.Count < size)
            {
                return (first, tokens);
            }
            to = page[0].Sequence - 1;
            size = Math.Min(size * 2, NewestInfoPages.LargestPage);
        }
    }

    /// <summary>The summary as the system message a context holds.</summary>
    internal static Message AsMessage(ConversationSummary s)
    {
        var msg = new Message(MessageRole.System, "Summary of the earlier conversation: " + s.SummaryText)
        {
            MessageId = "summary-" + s.SummaryId,
            Timestamp = s.CreatedAt,
        };
        msg.Metadata["type"] = "summary";
        msg.Metadata["summary_id"] = s.SummaryId;
        msg.Metadata["covers_messages"] = s.MessageCount;
        msg.Metadata["covers_from_sequence"] = s.FirstSequence;
        msg.Metadata["covers_to_sequence"] = s.LastSequence;
        return msg;
    }

    /// <summary>
    /// The summary and window by the coverage rule (see the class remarks); the window without a summary when
    /// no summary fits the budget. Windows are chosen over <paramref name="rest"/>, which reads older pages only
    /// when a window reaches past what it holds.
    /// </summary>
    private static async Task<(Message? Summary, List<MessageInfo> Window, List<int> Picked)> ChooseAsync(
        IReadOnlyList<ConversationSummary> summaries,
        NewestInfoPages rest,
        List<MessageInfo> widest,
        List<int> picked,
        long budget,
        ITokenCounter counter,
        CancellationToken cancellationToken)
    {
        // Any summary ending before the largest window's start also ends before a smaller window's start
        // (windows are newest-first suffixes), so only summaries reaching into that window need a closer look.
        var widestStart = picked.Count > 0 ? widest[picked[0]].Sequence : long.MaxValue;
        ConversationSummary? newestFitting = null;
        Message? newestMessage = null;
        for (var k = summaries.Count - 1; k >= 0; k--)
        {
            var s = summaries[k];
            var message = AsMessage(s);
            var cost = counter.CountMessageTokens(message);
            message.TokenCount = cost;
            if (cost > budget)
            {
                continue;
            }
            var (infos, window, _) = await rest.SelectNewestAsync(long.MinValue, budget - cost, cancellationToken).ConfigureAwait(false);
            if (window.Count > 0 && infos[window[0]].Sequence > s.LastSequence)
            {
                return (message, infos, window);
            }
            if (newestFitting is null)
            {
                newestFitting = s;
                newestMessage = message;
            }
            if (s.LastSequence < widestStart)
            {
                break;
            }
        }
        if (newestFitting is not null)
        {
            // Every summary that fits reaches into the window: the newest one, and the window after its end,
            // when messages follow it (the newest messages always stay; a context of a summary alone does not).
            var (after, window, _) = await rest.SelectNewestAsync(newestFitting.LastSequence, budget - newestMessage!.TokenCount!.Value, cancellationToken).ConfigureAwait(false);
            if (window.Count > 0)
            {
                return (newestMessage, after, window);
            }
        }
        return (null, widest, picked);
    }
}
