using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>
/// The input limits README's "Limits" table states, at the limit and one past it, on every backend: ids, content
/// in its widest encoding, tool calls per message, messages per batch, summary text. What is accepted reads back;
/// what is refused throws the documented exception before anything is written.
/// </summary>
public abstract partial class BackendConformanceTests
{
    /// <summary>A summarizer that returns a fixed text.</summary>
    private sealed class FixedSummarizer(string text) : ISummarizer
    {
        public Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default) =>
            Task.FromResult(text);
    }

    private static JsonArray ToolCalls(int count)
    {
        var calls = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            calls.Add(new JsonObject
            {
                ["id"] = $"call_{i}",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "lookup", ["arguments"] = $"{{\"n\":{i}}}" },
            });
        }
        return calls;
    }

    [Fact]
    public async Task Ids_AtTheLengthLimit_AreAccepted_OnePast_AreRejected()
    {
        // 3 UTF-8 bytes a character: the widest key an id makes.
        var longest = new string('€', MemoryLimits.MaxIdLength);
        var owner = new string('ü', MemoryLimits.MaxIdLength - 1) + "€";
        var s = await Backend.CreateSessionAsync(new SessionMetadata(longest, owner) { SummaryStrategy = SummaryStrategy.Manual });
        var m = Msg(MessageRole.User, "longest message id");
        m.MessageId = new string('€', MemoryLimits.MaxIdLength);
        await s.AddMessageAsync(m);

        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata(longest + "s", "u")));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("owner-too-long", owner + "u")));
        var past = Msg(MessageRole.User, "message id one past");
        past.MessageId = m.MessageId + "m";
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(past));

        Assert.Equal([longest], (await Backend.ListSessionsAsync()).Select(x => x.SessionId));
        var back = (await Backend.GetSessionAsync(longest))!;
        Assert.Equal(owner, back.Metadata.UserId);
        AssertSameMessage(m, Assert.Single(await back.GetMessagesAsync()));
    }

    [Fact]
    public async Task LargestContent_InItsWidestEncoding_WithJsonAtItsLimit_RoundTrips()
    {
        // 3 UTF-8 bytes a character, and metadata at the JSON limit: the largest message the API accepts.
        var s = await NewSessionAsync();
        var m = Msg(MessageRole.User, new string('€', MemoryLimits.MaxContentLength), 1);
        m.Metadata = new JsonObject { ["k"] = new string('€', MemoryLimits.MaxJsonLength - 8) };
        Assert.Equal(MemoryLimits.MaxJsonLength, m.Metadata.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).Length);
        await s.AddMessageAsync(m);

        var past = Msg(MessageRole.User, new string('€', MemoryLimits.MaxContentLength + 1), 1);
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(past));

        await AssertMessagesStayAsync(s.SessionId, [m]);
    }

    [Fact]
    public async Task ToolCalls_AtTheLimit_RoundTrip_OnePast_AreRejected_AndNothingIsStored()
    {
        var s = await NewSessionAsync();
        var atLimit = new Message(MessageRole.Assistant, string.Empty) { TokenCount = 5, ToolCalls = ToolCalls(MemoryLimits.MaxToolCallsPerMessage) };
        await s.AddMessageAsync(atLimit);

        var past = new Message(MessageRole.Assistant, string.Empty) { TokenCount = 5, ToolCalls = ToolCalls(MemoryLimits.MaxToolCallsPerMessage + 1) };
        var ex = await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(past));
        Assert.Contains(nameof(MemoryLimits.MaxToolCallsPerMessage), ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessagesAsync([Msg(MessageRole.User, "first of the batch"), past]));

        await AssertMessagesStayAsync(s.SessionId, [atLimit]);
    }

    [Fact]
    public async Task Batch_AtTheLimit_IsStored_OnePast_StoresNothing()
    {
        var s = await NewSessionAsync(configure: m =>
        {
            m.MaxMessages = 10 * MemoryLimits.MaxMessagesPerBatch;
            m.MaxTokens = int.MaxValue;
        });
        var batch = Enumerable.Range(0, MemoryLimits.MaxMessagesPerBatch).Select(i => Msg(MessageRole.User, $"message {i}", 1)).ToList();
        await s.AddMessagesAsync(batch);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => s.AddMessagesAsync([.. batch.Take(2).Select(m => Msg(m.Role, m.Content, 1)), .. batch.Select(m => Msg(m.Role, m.Content, 1))]));
        Assert.Equal("messages", ex.ParamName);
        Assert.Contains(nameof(MemoryLimits.MaxMessagesPerBatch), ex.Message, StringComparison.Ordinal);
        // A lazy sequence is counted the same way, and one past the limit is refused before any message is written.
        static IEnumerable<Message> Lazy()
        {
            for (var i = 0; i <= MemoryLimits.MaxMessagesPerBatch; i++)
            {
                yield return Msg(MessageRole.Assistant, $"lazy {i}", 1);
            }
        }
        await Assert.ThrowsAsync<ArgumentException>(() => s.AddMessagesAsync(Lazy()));

        var got = await s.GetMessagesAsync();
        Assert.Equal(MemoryLimits.MaxMessagesPerBatch, got.Count);
        Assert.Equal(batch.Select(m => m.Content), got.Select(m => m.Content));
    }

    public static TheoryData<string> BadSummaries => ["too long", "unpaired surrogate"];

    [Theory]
    [MemberData(nameof(BadSummaries))]
    public async Task SummaryText_PastTheLimit_OrNotText_IsRefused_AndNothingIsStored(string kind)
    {
        var s = await NewSessionAsync();
        await s.AddMessageAsync(Msg(MessageRole.User, "Please remember the blue door."));
        ((MemoryBackendBase)Backend).Summarizer = new FixedSummarizer(kind == "too long" ? new string('x', MemoryLimits.MaxSummaryLength + 1) : "broken \uD800 summary");

        var ex = await Assert.ThrowsAsync<MemoryException>(() => s.CreateSummaryAsync());
        Assert.DoesNotContain("broken", ex.Message, StringComparison.Ordinal);

        await ReopenBackendAsync();
        Assert.Empty(await (await Backend.GetSessionAsync(s.SessionId))!.GetSummariesAsync());
    }

    [Fact]
    public async Task SummaryText_AtTheLimit_InItsWidestEncoding_RoundTrips()
    {
        var s = await NewSessionAsync();
        await s.AddMessageAsync(Msg(MessageRole.User, "Please remember the blue door."));
        var text = new string('€', MemoryLimits.MaxSummaryLength);
        ((MemoryBackendBase)Backend).Summarizer = new FixedSummarizer(text);
        await s.CreateSummaryAsync();

        await ReopenBackendAsync();
        Assert.Equal(text, Assert.Single(await (await Backend.GetSessionAsync(s.SessionId))!.GetSummariesAsync()).SummaryText);
    }
}
