using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    /// <summary>Generated sessions of the context property; slow backends may lower it.</summary>
    protected virtual int ContextPropertyCases => 16;

    /// <summary>
    /// The context, read newest first a page at a time, is the one a pass over every live info of the session
    /// chooses (the reference below): generated sessions of system messages, tool-call blocks (and orphan
    /// results), automatic summaries and evictions, a reopen and more adds after it, at budgets from nothing to
    /// everything.
    /// </summary>
    [Fact]
    public async Task Context_OfGeneratedSessions_IsWhatAPassOverEveryInfoChooses()
    {
        var counter = (Backend as MemoryBackendBase)?.TokenCounter ?? TiktokenCounter.Default;
        for (var seed = 0; seed < ContextPropertyCases; seed++)
        {
            var rng = new Random(seed);
            var id = $"ctx-{seed}-{Guid.NewGuid():N}";
            var s = await Backend.CreateSessionAsync(new SessionMetadata(id, "ctx-user")
            {
                SummaryStrategy = seed % 4 == 0 ? SummaryStrategy.Manual : SummaryStrategy.Periodic,
                AutoSummarizeThreshold = rng.Next(4, 40),
                MaxMessages = rng.Next(20, 250),
                MaxTokens = 1_000_000,
            });
            var added = await AddGeneratedAsync(s, rng, rng.Next(0, 400), 0);
            await IdleAsync();
            if (seed % 4 == 0 && added > 0)
            {
                await s.CreateSummaryAsync(SummaryType.Manual);
            }
            if (seed % 3 == 1)
            {
                await ReopenBackendAsync();
                counter = (Backend as MemoryBackendBase)?.TokenCounter ?? TiktokenCounter.Default;
                s = (await Backend.GetSessionAsync(id))!;
                added = await AddGeneratedAsync(s, rng, rng.Next(0, 30), added);
                await IdleAsync();
            }
            foreach (var budget in new[] { 0, 1, 9, 40, 150, 600, 2_500, 1_000_000 })
            {
                var expected = await ReferenceContextAsync(s, counter, added, budget);
                var actual = await s.GetConversationContextAsync(budget);
                Assert.Equal(expected, actual.Select(Describe));
            }
        }
    }

    /// <summary>Adds <paramref name="count"/> generated messages in batches; returns the sequence of the last one.</summary>
    private static async Task<int> AddGeneratedAsync(IMemorySession s, Random rng, int count, int sequence)
    {
        var batch = new List<Message>();
        var call = 0;
        while (batch.Count < count)
        {
            var tokens = rng.Next(0, 80);
            switch (rng.Next(20))
            {
                case 0:
                    batch.Add(Msg(MessageRole.System, $"rules {sequence + batch.Count + 1}", tokens));
                    break;
                case 1:
                case 2:
                case 3:
                    var callId = $"c{sequence}-{call++}";
                    batch.Add(ToolCall(callId, tokens: tokens));
                    for (var r = rng.Next(0, 3); r >= 0; r--)
                    {
                        batch.Add(ToolResult(callId, $"result {sequence + batch.Count + 1}", rng.Next(0, 80)));
                    }
                    break;
                case 4:
                    batch.Add(ToolResult("lost", $"orphan {sequence + batch.Count + 1}", tokens));
                    break;
                default:
                    var role = rng.Next(2) == 0 ? MessageRole.User : MessageRole.Assistant;
                    batch.Add(Msg(role, $"{role} {sequence + batch.Count + 1}", tokens));
                    break;
            }
        }
        for (var i = 0; i < batch.Count;)
        {
            var n = Math.Min(batch.Count - i, rng.Next(1, 25));
            await s.AddMessagesAsync(batch.GetRange(i, n));
            i += n;
        }
        return sequence + batch.Count;
    }

    /// <summary>
    /// The context rule as a pass over every live info (how the context was built before it read newest first):
    /// the system messages that fit, newest first; then, when something is left out, the newest summary that ends
    /// before its window (or the newest that fits, with the window after its end); then the window.
    /// </summary>
    private static async Task<List<string>> ReferenceContextAsync(IMemorySession s, ITokenCounter counter, long lastSequence, int maxTokens)
    {
        var live = await s.GetMessagesAsync();
        var infos = live.Select(MessageInfo.Of).ToList();
        var rest = infos.Where(i => i.Role != MessageRole.System).ToList();
        var (firstSystem, systemTokens) = ContextWindow.SelectSystem(infos, maxTokens);
        var budget = maxTokens - systemTokens;
        var window = rest;
        var picked = ContextWindow.SelectNewest(rest, budget);
        string? summary = null;
        if (picked.Count < rest.Count || lastSequence > infos.Count)
        {
            var summaries = await s.GetSummariesAsync();
            var widestStart = picked.Count > 0 ? rest[picked[0]].Sequence : long.MaxValue;
            ConversationSummary? newestFitting = null;
            long newestCost = 0;
            var chosen = false;
            for (var k = summaries.Count - 1; k >= 0 && !chosen; k--)
            {
                var cost = counter.CountMessageTokens(ConversationContext.AsMessage(summaries[k]));
                if (cost > budget)
                {
                    continue;
                }
                var w = ContextWindow.SelectNewest(rest, budget - cost);
                if (w.Count > 0 && rest[w[0]].Sequence > summaries[k].LastSequence)
                {
                    (summary, window, picked, chosen) = (summaries[k].SummaryId, rest, w, true);
                    break;
                }
                if (newestFitting is null)
                {
                    (newestFitting, newestCost) = (summaries[k], cost);
                }
                if (summaries[k].LastSequence < widestStart)
                {
                    break;
                }
            }
            if (!chosen && newestFitting is not null)
            {
                var after = rest.Where(i => i.Sequence > newestFitting.LastSequence).ToList();
                var w = ContextWindow.SelectNewest(after, budget - newestCost);
                if (w.Count > 0)
                {
                    (summary, window, picked) = (newestFitting.SummaryId, after, w);
                }
            }
        }
        var expected = new List<string>();
        if (firstSystem is { } from)
        {
            expected.AddRange(live.Where(m => m.Role == MessageRole.System && m.Sequence >= from).Select(Describe));
        }
        if (summary is not null)
        {
            expected.Add("summary " + summary);
        }
        if (picked.Count > 0)
        {
            var (lo, hi) = (window[picked[0]].Sequence, window[picked[^1]].Sequence);
            expected.AddRange(live.Where(m => m.Role != MessageRole.System && m.Sequence >= lo && m.Sequence <= hi).Select(Describe));
        }
        return expected;
    }

    private static string Describe(Message m) =>
        m.Metadata["type"]?.ToString() == "summary" ? "summary " + m.Metadata["summary_id"] : $"{m.Sequence} {m.Role} {m.Content}";
}
