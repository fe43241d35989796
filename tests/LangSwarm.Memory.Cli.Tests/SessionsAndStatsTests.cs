using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

public sealed class SessionsAndStatsTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Store => _dir.File("engine");

    [Fact]
    public async Task Sessions_filter_by_user_status_and_activity_time()
    {
        await Conversations.FillEngineAsync(Store);

        var alice = await Lsmem.RunAsync("sessions", "--store", Store, "--user", "alice");
        var archived = await Lsmem.RunAsync("sessions", "--store", Store, "--status", "archived");
        var recent = await Lsmem.RunAsync("sessions", "--store", Store, "--since", "2026-11-30T00:00:00Z");

        Assert.Equal(["trip-sf", "trip-old"], Ids(alice.Out));
        Assert.Equal(["trip-old"], Ids(archived.Out));
        Assert.Equal(["chat-bob", "trip-sf"], Ids(recent.Out));
    }

    [Fact]
    public async Task Sessions_page_with_limit_and_offset_and_say_where_the_next_page_starts()
    {
        await Conversations.FillEngineAsync(Store);

        var first = await Lsmem.RunAsync("sessions", "--store", Store, "--limit", "2");
        var second = await Lsmem.RunAsync("sessions", "--store", Store, "--limit", "2", "--offset", "2");
        var json = await Lsmem.RunAsync("sessions", "--store", Store, "--limit", "2", "--json");

        Assert.Equal(2, Ids(first.Out).Count);
        Assert.Contains("next page: --offset 2", first.Out, StringComparison.Ordinal);
        Assert.Single(Ids(second.Out));
        Assert.EndsWith("sessions 3–3\n", second.Out, StringComparison.Ordinal);
        Assert.Equal(Ids(first.Out).Concat(Ids(second.Out)).Order(), new[] { "chat-bob", "trip-old", "trip-sf" });
        var page = JsonNode.Parse(json.Out)!;
        Assert.Equal(2, (int)page["next_offset"]!);
        Assert.Equal(Ids(first.Out), page["sessions"]!.AsArray().Select(s => (string)s!["session_id"]!));
    }

    [Fact]
    public async Task Stats_print_a_short_summary_and_json()
    {
        await Conversations.FillEngineAsync(Store);

        var text = await Lsmem.RunAsync("stats", "--store", Store);
        var json = await Lsmem.RunAsync("stats", "--store", Store, "--json");

        Assert.Equal(0, text.Exit);
        Assert.Contains("health     healthy\n", text.Out, StringComparison.Ordinal);
        Assert.Contains("sessions   3 (2 active, 1 archived)\n", text.Out, StringComparison.Ordinal);
        Assert.Contains("summaries  1\n", text.Out, StringComparison.Ordinal);
        var node = JsonNode.Parse(json.Out)!;
        Assert.Equal(3, (long)node["stats"]!["total_sessions"]!);
        Assert.Equal("healthy", ((string)node["health"]!["status"]!).ToLowerInvariant());
        Assert.Contains($"messages   {(long)node["stats"]!["total_messages"]!} live\n", text.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sessions", "--limit", "0")]
    [InlineData("sessions", "--status", "sleeping")]
    [InlineData("sessions", "--nonsense")]
    [InlineData("frobnicate")]
    public async Task Bad_usage_exits_2(params string[] args)
    {
        await Conversations.FillEngineAsync(Store);

        var run = await Lsmem.RunAsync([.. args, "--store", Store]);

        Assert.Equal(2, run.Exit);
        Assert.NotEmpty(run.Err);
    }

    [Fact]
    public async Task Tab_completion_suggests_commands_and_role_names()
    {
        var commands = await Lsmem.RunAsync("[suggest:8]", "lsmem sh");
        var roles = await Lsmem.RunAsync("[suggest:23]", "lsmem show x --role as");

        Assert.Equal(0, commands.Exit);
        Assert.Contains("show", commands.Out.Split('\n'));
        Assert.Contains("assistant", roles.Out.Split('\n'));
    }

    private static List<string> Ids(string listing) =>
        listing.Split('\n').Where(l => l.StartsWith("20", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).ToList();

    public void Dispose() => _dir.Dispose();
}
