using LangSwarm.Memory.AI;
using Microsoft.Extensions.AI;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

public sealed class ChatReducerTests
{
    private static int Tokens(IEnumerable<ChatMessage> messages) =>
        messages.SelectMany(ChatMessageConversion.FromChatMessage).Sum(TiktokenCounter.Default.CountMessageTokens);

    private static List<ChatMessage> Conversation(int turns)
    {
        var list = new List<ChatMessage> { new(ChatRole.System, "You are a helpful assistant.") };
        for (var i = 0; i < turns; i++)
        {
            list.Add(new ChatMessage(ChatRole.User, $"Question {i}: tell me about topic {i} and the history of item number {i} in some detail please."));
            list.Add(new ChatMessage(ChatRole.Assistant, $"Answer {i}: topic {i} began long ago; item {i} changed hands several times over the years."));
        }
        return list;
    }

    [Fact]
    public async Task A_list_that_fits_comes_back_unchanged()
    {
        var list = Conversation(2);
        var reduced = await new LangSwarmChatReducer(10_000).ReduceAsync(list, Ct.Token);
        Assert.Equal(list, reduced);
    }

    [Fact]
    public async Task A_long_list_becomes_system_summary_and_newest_within_budget()
    {
        var list = Conversation(40);
        var reduced = (await new LangSwarmChatReducer(600).ReduceAsync(list, Ct.Token)).ToList();

        Assert.True(Tokens(reduced) <= 600, $"{Tokens(reduced)} tokens");
        Assert.Same(list[0], reduced[0]);
        Assert.Equal(ChatRole.System, reduced[1].Role);
        Assert.StartsWith(LangSwarmChatReducer.SummaryPrefix, reduced[1].Text);
        Assert.Same(list[^1], reduced[^1]);
        Assert.True(reduced.Count < list.Count);
    }

    [Fact]
    public async Task A_tool_result_never_opens_the_window()
    {
        var list = Conversation(10);
        list.Add(new ChatMessage(ChatRole.User, "Weather?"));
        list.Add(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "get_weather", new Dictionary<string, object?>())]));
        list.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("c1", string.Concat(Enumerable.Repeat("cloudy and mild all day long ", 8)))]));
        var callTokens = Tokens(list.Skip(list.Count - 2));
        var reduced = (await new LangSwarmChatReducer(callTokens + 10, summarize: false).ReduceAsync(list, Ct.Token)).ToList();
        Assert.DoesNotContain(reduced, m => m.Role == ChatRole.Tool && !reduced.Any(c => c.Contents.OfType<FunctionCallContent>().Any()));
        Assert.True(Tokens(reduced) <= callTokens + 10);
    }
}
