using System.Diagnostics;
using LangSwarm.Memory;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Log;
using Microsoft.Extensions.AI;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// W4: a long conversation with automatic summaries. One session with the seed's defaults (max_messages 1,000,
/// max_tokens 32,000, auto_summarize_threshold 100, Periodic) takes ~400-token messages while a summarizer
/// that takes <see cref="SummarizerDelay"/> per call (an <see cref="IChatClient"/> that only waits) makes the
/// summaries; the same adds without summaries (Manual) give the baseline p99. Each backend's cell notes the
/// summarizer calls and what an 8,000-token context holds afterwards.
/// </summary>
public static class Summaries
{
    /// <summary>What one summarizer call costs (an LLM round trip, scaled down).</summary>
    public static readonly TimeSpan SummarizerDelay = TimeSpan.FromMilliseconds(50);

    private const int ContextBudget = 8_000;

    /// <summary>Runs W4 (one repetition per backend: a run is long, and its figures are counts as much as times).</summary>
    public static async Task RunAsync(BenchContext ctx)
    {
        BackendSpec?[] specs = [Backends.Engine(DurabilityMode.None), Backends.Sqlite(SqliteDurability.Normal), Backends.Redis(ctx.RelaxedRedis)];
        var adds = ctx.Options.W4Messages;
        await ctx.MeasureRowAsync(
            new Row("W4", $"long conversation, {adds:N0} adds of ~400 tokens, seed defaults, no summaries ({Writes.Modes(specs)})", "msg/s", true),
            specs,
            s => Conversation(ctx, s, adds, summarize: false)).ConfigureAwait(false);
        await ctx.MeasureRowAsync(
            new Row("W4", $"long conversation, {adds:N0} adds of ~400 tokens, seed defaults, {SummarizerDelay.TotalMilliseconds:0} ms summarizer ({Writes.Modes(specs)})", "msg/s", true),
            specs,
            s => Conversation(ctx, s, adds, summarize: true)).ConfigureAwait(false);
    }

    private static async Task<Measure> Conversation(BenchContext ctx, BackendSpec spec, int adds, bool summarize)
    {
        var dir = ctx.NewDir();
        try
        {
            await using var b = await spec.OpenAsync(dir).ConfigureAwait(false);
            var client = new WaitingChatClient(SummarizerDelay);
            if (b is MemoryBackendBase based)
            {
                based.Summarizer = new ChatClientSummarizer(client);
            }
            var meta = new SessionMetadata("w4", "bench");
            if (!summarize)
            {
                meta.SummaryStrategy = SummaryStrategy.Manual;
            }
            var session = await b.CreateSessionAsync(meta).ConfigureAwait(false);
            await session.AddMessageAsync(new Message(MessageRole.System, "You are a helpful assistant.") { TokenCount = 12 }).ConfigureAwait(false);
            var latencies = new List<double>(adds);
            var checks = 0;
            var overBudget = 0;
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < adds; i++)
            {
                var m = ctx.Data.Fixed(1_600, i).Clone();
                m.TokenCount = 400;
                var t0 = Stopwatch.GetTimestamp();
                await session.AddMessageAsync(m).ConfigureAwait(false);
                latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                if (i % 500 == 499)
                {
                    // The budget is a promise at every point of the conversation, not only at its end.
                    sw.Stop();
                    checks++;
                    var mid = await session.GetConversationContextAsync(ContextBudget).ConfigureAwait(false);
                    overBudget += mid.Sum(x => x.TokenCount ?? 0) > ContextBudget ? 1 : 0;
                    sw.Start();
                }
            }
            sw.Stop();
            // The summaries owed by the last adds are made in the background; the context is read once they are.
            var settle = Stopwatch.StartNew();
            await b.WhenSummariesIdleAsync().ConfigureAwait(false);
            settle.Stop();
            var context = await session.GetConversationContextAsync(ContextBudget).ConfigureAwait(false);
            var tokens = context.Sum(x => x.TokenCount ?? 0);
            var summaries = await session.GetSummariesAsync().ConfigureAwait(false);
            var used = context.FirstOrDefault(x => x.Metadata.ContainsKey("summary_id"));
            var usedSummary = used is null ? null : summaries.FirstOrDefault(x => x.SummaryId == used.Metadata["summary_id"]!.GetValue<string>());
            var firstInWindow = context.FirstOrDefault(x => x.Role != MessageRole.System)?.Sequence;
            var coverage = usedSummary is null
                ? "no summary in the context"
                : $"the context's summary covers sequences {usedSummary.FirstSequence}–{usedSummary.LastSequence}, the window starts at {firstInWindow}";
            var note = $"{client.Calls} summarizer calls ({summaries.Count} summaries); context {tokens:N0} of {ContextBudget:N0} tokens, {context.Count} messages; {coverage}; "
                + $"{checks} contexts along the way, {overBudget} over budget; background caught up {settle.Elapsed.TotalMilliseconds:N0} ms after the last add";
            BenchContext.Log($"W4 {spec.Column} {(summarize ? "summaries" : "baseline")}: {note}");
            return Stats.Fold([new Sample(adds / sw.Elapsed.TotalSeconds, Stats.Percentile(latencies, 0.99))], note);
        }
        finally
        {
            BenchContext.Remove(dir);
        }
    }

    /// <summary>A chat client that answers every request after a fixed delay, counting the calls.</summary>
    private sealed class WaitingChatClient(TimeSpan delay) : IChatClient
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, $"Summary {Calls}: the user and the assistant discussed the topics so far."));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The bench summarizer does not stream.");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
