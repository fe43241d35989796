using System.Text.Json;
using LangSwarm.MemoryEngine;
using Microsoft.Extensions.AI;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>Every AIContent kind a conversation holds goes through the engine and comes back as it was.</summary>
public sealed class ContentRoundTripTests
{
    private static string Json(ChatMessage m) =>
        JsonSerializer.Serialize(m.Contents, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IList<AIContent>)));

    public static TheoryData<string> Kinds => ["text", "calls", "result", "data", "uri", "usage", "reasoning", "annotated", "error", "mixed", "image-only"];

    private static ChatMessage Build(string kind) => kind switch
    {
        "text" => new ChatMessage(ChatRole.User, "plain text"),
        "calls" => new ChatMessage(ChatRole.Assistant, [new TextContent("Let me look."), new FunctionCallContent("c1", "lookup", new Dictionary<string, object?> { ["q"] = "x" })]),
        "result" => new ChatMessage(ChatRole.Tool, [new FunctionResultContent("c1", "42")]),
        "data" => new ChatMessage(ChatRole.User, [new TextContent("What is in this picture?"), new DataContent(new byte[] { 1, 2, 3, 4, 5 }, "image/png")]),
        "uri" => new ChatMessage(ChatRole.User, [new UriContent(new Uri("https://example.com/a.pdf"), "application/pdf"), new TextContent("Summarize it.")]),
        "usage" => new ChatMessage(ChatRole.Assistant, [new TextContent("Done."), new UsageContent(new UsageDetails { InputTokenCount = 12, OutputTokenCount = 3, TotalTokenCount = 15 })]),
        "reasoning" => new ChatMessage(ChatRole.Assistant, [new TextReasoningContent("think first") { ProtectedData = "opaque" }, new TextContent("Answer.")]),
        "annotated" => new ChatMessage(ChatRole.Assistant, [new TextContent("Cited text.") { Annotations = [new CitationAnnotation { Title = "Source", Url = new Uri("https://example.com") }] }]),
        "error" => new ChatMessage(ChatRole.Assistant, [new ErrorContent("rate limited") { ErrorCode = "429" }]),
        "mixed" => new ChatMessage(ChatRole.Assistant, [new TextContent("a"), new FunctionCallContent("c2", "f", new Dictionary<string, object?>()), new TextContent("b"), new TextReasoningContent("r")]),
        "image-only" => new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 9, 9 }, "image/jpeg")]),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Content_kind_round_trips_through_the_engine(string kind)
    {
        using var dir = new TempDir();
        var original = Build(kind);
        var stored = ChatMessageConversion.FromChatMessage(original);
        await using (var engine = new EngineBackend(dir.Path))
        {
            await engine.ConnectAsync(Ct.Token);
            var session = await engine.CreateSessionAsync(new SessionMetadata("s"), Ct.Token);
            await session.AddMessagesAsync(stored, Ct.Token);
        }
        await using var reopened = new EngineBackend(dir.Path);
        await reopened.ConnectAsync(Ct.Token);
        var back = (await (await reopened.GetSessionAsync("s", Ct.Token))!.GetMessagesAsync(cancellationToken: Ct.Token)).ToChatMessages();

        var message = Assert.Single(back);
        Assert.Equal(original.Role, message.Role);
        Assert.Equal(Json(original), Json(message));
    }

    [Fact]
    public void Plain_messages_get_no_layout()
    {
        var m = Assert.Single(ChatMessageConversion.FromChatMessage(Build("calls")));
        Assert.False(m.Metadata.ContainsKey("ai_contents"));
        Assert.Equal("Let me look.", m.Content);
    }

    [Fact]
    public void Text_stays_in_the_content_other_formats_read()
    {
        var m = Assert.Single(ChatMessageConversion.FromChatMessage(Build("data")));
        Assert.Equal("What is in this picture?", m.Content);
        Assert.True(m.Metadata.ContainsKey("ai_contents"));
        var imageOnly = Assert.Single(ChatMessageConversion.FromChatMessage(Build("image-only")));
        Assert.Equal("[image/jpeg]", imageOnly.Content);
    }
}
