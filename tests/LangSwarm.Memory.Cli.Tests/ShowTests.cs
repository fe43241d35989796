using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

public sealed class ShowTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Store => _dir.File("engine");

    [Fact]
    public async Task Transcript_shows_roles_times_tool_calls_results_and_the_summary_where_it_sits()
    {
        await Conversations.FillEngineAsync(Store);

        var run = await Lsmem.RunAsync("show", "trip-sf", "--store", Store);

        Assert.Equal(0, run.Exit);
        const string Expected = """
            session trip-sf · user alice · active · 6 messages · 1 summary
            created 2026-11-30 09:15:00Z · last activity 2026-11-30 10:15:00Z

            #1  2026-11-30 09:15:00Z  system
                You are a travel assistant.

            #2  2026-11-30 09:16:00Z  user
                Weather in San Francisco tomorrow?

            #3  2026-11-30 09:17:00Z  assistant
                → get_weather({"city":"SF"})  call_1

            #4  2026-11-30 09:18:00Z  tool  ← call_1
                {"temp_f":64}

            #5  2026-11-30 09:19:00Z  assistant
                64°F with fog until noon.
                Bring a jacket.

            """;
        Assert.StartsWith(Expected.Replace("\r\n", "\n", StringComparison.Ordinal), run.Out, StringComparison.Ordinal);
        var summaryAt = run.Out.IndexOf("── summary #1 of messages 2–5 (4 messages, manual, 2026-11-30 10:15:00Z) ──", StringComparison.Ordinal);
        Assert.True(summaryAt > run.Out.IndexOf("#5 ", StringComparison.Ordinal) && summaryAt < run.Out.IndexOf("#6 ", StringComparison.Ordinal), run.Out);
        Assert.EndsWith("#6  2026-11-30 09:20:00Z  user\n    Thanks!\n", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_role_and_since_filter_the_messages()
    {
        await Conversations.FillEngineAsync(Store);

        var tail = await Lsmem.RunAsync("show", "trip-sf", "--store", Store, "--tail", "2");
        var roles = await Lsmem.RunAsync("show", "trip-sf", "--store", Store, "--role", "user,tool");
        var since = await Lsmem.RunAsync("show", "trip-sf", "--store", Store, "--since", "2026-11-30T09:19:00Z");

        Assert.Equal(["#5", "#6"], Numbers(tail.Out));
        Assert.Contains("2 messages shown", tail.Out, StringComparison.Ordinal);
        Assert.Equal(["#2", "#4", "#6"], Numbers(roles.Out));
        Assert.Equal(["#5", "#6"], Numbers(since.Out));
    }

    [Fact]
    public async Task Json_prints_the_raw_messages_in_the_export_shape()
    {
        await Conversations.FillEngineAsync(Store);

        var run = await Lsmem.RunAsync("show", "trip-sf", "--store", Store, "--json", "--role", "assistant");

        Assert.Equal(0, run.Exit);
        var array = JsonNode.Parse(run.Out)!.AsArray();
        Assert.Equal(["m3", "m5"], array.Select(m => (string)m!["message_id"]!));
        Assert.Equal("get_weather", (string)array[0]!["tool_calls"]![0]!["function"]!["name"]!);
        Assert.Equal("2026-11-30T09:17:00.0000000Z", (string)array[0]!["timestamp"]!);
    }

    [Fact]
    public async Task Evicted_messages_leave_gaps_in_the_numbering()
    {
        await Conversations.FillEngineAsync(Store);

        var run = await Lsmem.RunAsync("show", "chat-bob", "--store", Store);

        Assert.Equal(0, run.Exit);
        var numbers = Numbers(run.Out);
        Assert.True(numbers.Count < 12, run.Out);
        Assert.Equal("#12", numbers[^1]);
    }

    [Theory]
    [InlineData("show", "nosuch")]
    [InlineData("show", "trip-sf", "--tail", "-1")]
    [InlineData("show", "trip-sf", "--role", "robot")]
    [InlineData("show", "trip-sf", "--since", "yesterday-ish")]
    public async Task Bad_input_exits_2_with_a_message(params string[] args)
    {
        await Conversations.FillEngineAsync(Store);

        var run = await Lsmem.RunAsync([.. args, "--store", Store]);

        Assert.Equal(2, run.Exit);
        Assert.StartsWith("lsmem: ", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_that_does_not_exist_is_not_created_by_a_reading_command()
    {
        var missing = _dir.File("missing");

        var run = await Lsmem.RunAsync("show", "x", "--store", missing);

        Assert.Equal(2, run.Exit);
        Assert.Contains("no engine store", run.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    private static List<string> Numbers(string transcript) =>
        transcript.Split('\n').Where(l => l.StartsWith('#')).Select(l => l.Split(' ')[0]).ToList();

    public void Dispose() => _dir.Dispose();
}
