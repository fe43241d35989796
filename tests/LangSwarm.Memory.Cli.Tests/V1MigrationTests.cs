using System.Security.Cryptography;
using System.Text.Json.Nodes;
using LangSwarm.Memory.Sqlite;
using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

public sealed class V1MigrationTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public async Task Lsmem_migrate_maps_every_v1_field_reports_what_it_could_not_and_never_touches_the_v1_file()
    {
        var v1 = await V1Store.CreateAsync(_dir.File(V1MemoryMigrator.DefaultFileName));
        var before = SHA256.HashData(await File.ReadAllBytesAsync(v1));
        var filesBefore = Directory.GetFiles(_dir.Path).Order().ToList();
        var engine = _dir.File("engine");

        var run = await Lsmem.RunAsync("migrate", "--from", "v1_sqlite:" + v1, "--to", "engine:" + engine, "--v1-time-zone", "Europe/Berlin");

        Assert.Equal(1, run.Exit); // one session could not be read
        Assert.Contains("copied 3, copied again 0 (partial), already there 0, conflicts 0, failed 1;", run.Out, StringComparison.Ordinal);
        Assert.Contains("verified 3", run.Out, StringComparison.Ordinal);
        Assert.Contains("session 'v1-broken': history is not valid JSON", run.Err, StringComparison.Ordinal);
        Assert.Contains("session 'v1-odd': message 0 has role 'narrator'", run.Err, StringComparison.Ordinal);
        Assert.Contains("session 'v1-odd': message 2 id 'd2' repeats an earlier one", run.Err, StringComparison.Ordinal);
        Assert.Contains("session 'v1-summary': message 2 timestamp \"not a time\" is not a time", run.Err, StringComparison.Ordinal);
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(v1)));
        Assert.Equal(filesBefore, Directory.GetFiles(_dir.Path).Order().ToList());

        var lines = (await Lsmem.RunAsync("export", "--store", engine)).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var tools = Session(lines, "v1-tools");
        var head = tools[0];
        Assert.Equal("alice", (string)head["user_id"]!);
        Assert.Equal("active", (string)head["status"]!);
        Assert.Equal("2024-03-10T07:00:00.1234560Z", (string)head["created_at"]!); // Berlin local (UTC+1) to UTC
        Assert.Equal("2024-03-10T07:06:30.0000000Z", (string)head["updated_at"]!); // the later of updated_at and last_activity
        Assert.Equal("weather", (string)head["metadata"]!["topic"]!);
        Assert.Equal("openai", (string)head["metadata"]!["langswarm_v1"]!["provider"]!);
        Assert.Equal("gpt-4o", (string)head["metadata"]!["langswarm_v1"]!["model"]!);
        Assert.Equal(50, (int)head["metadata"]!["langswarm_v1"]!["session_control"]!["max_messages"]!);
        Assert.Equal(120, (int)head["metadata"]!["langswarm_v1"]!["total_tokens"]!);
        Assert.Equal(["system", "user", "assistant", "tool", "assistant"], tools.Skip(1).Select(m => (string)m["role"]!));
        Assert.Equal(["a1", "a2", "a3", "a4", "a5"], tools.Skip(1).Select(m => (string)m["message_id"]!));
        Assert.Equal("weather", (string)tools[3]["tool_calls"]![0]!["function"]!["name"]!);
        Assert.Equal("call_9", (string)tools[4]["metadata"]!["tool_call_id"]!);
        Assert.Equal("chatcmpl-123", (string)tools[5]["metadata"]!["provider_message_id"]!);
        Assert.Equal("stop", (string)tools[5]["metadata"]!["finish_reason"]!);
        Assert.All(tools.Skip(1), m => Assert.True((int)m["token_count"]! > 0));

        var summary = Session(lines, "v1-summary");
        Assert.Equal("archived", (string)summary[0]["status"]!);
        Assert.Equal(7, (long)summary[0]["last_sequence"]!);
        Assert.Equal(4, (long)summary[0]["summarized_through"]!);
        Assert.Equal([5L, 6L, 7L], summary.Where(l => (string)l["type"]! == "message").Select(m => (long)m["sequence"]!));
        Assert.Equal("2024-03-11T10:30:00.0000000Z", (string)summary[1]["timestamp"]!); // a zoned time keeps its zone
        Assert.Equal("function", (string)summary[2]["role"]!);
        Assert.Equal("lookup", (string)summary[2]["metadata"]!["name"]!);
        Assert.Equal("2024-03-11T10:31:00.0000000Z", (string)summary[2]["timestamp"]!); // Unix seconds
        Assert.Equal("2024-03-11T10:31:00.0000000Z", (string)summary[3]["timestamp"]!); // not a time: the previous one
        var s = summary[^1];
        Assert.Equal("summary", (string)s["type"]!);
        Assert.Equal((1L, 4L, 4L), ((long)s["first_sequence"]!, (long)s["last_sequence"]!, (long)s["message_count"]!));
        Assert.Equal("Bob asked about the first part; it was answered.", (string)s["text"]!);

        var odd = Session(lines, "v1-odd");
        Assert.Null(odd[0]["user_id"]);
        Assert.Equal("inactive", (string)odd[0]["metadata"]!["langswarm_v1"]!["status"]!);
        Assert.Equal("[1, 2]", (string)odd[0]["metadata"]!["langswarm_v1"]!["metadata_text"]!);
        Assert.Equal("Part one, part two.", (string)odd[1]["content"]!);
        Assert.Equal("v1-2", (string)odd[2]["message_id"]!);
        Assert.DoesNotContain(lines, l => (string?)l["session_id"] == "v1-broken");
    }

    [Fact]
    public async Task Running_the_v1_migration_again_finds_everything_already_there()
    {
        var v1 = await V1Store.CreateAsync(_dir.File("v1.db"));
        var target = "sqlite:" + _dir.File("target.db");
        await Lsmem.RunAsync("migrate", "--from", "v1_sqlite:" + v1, "--to", target, "--v1-time-zone", "UTC");

        var again = await Lsmem.RunAsync("migrate", "--from", "v1_sqlite:" + v1, "--to", target, "--v1-time-zone", "UTC");

        Assert.Contains("copied 0, copied again 0 (partial), already there 3, conflicts 0, failed 1;", again.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_migrator_api_reports_skipped_sessions_and_unmapped_fields()
    {
        var v1 = await V1Store.CreateAsync(_dir.File("v1.db"));
        await using var target = new InMemoryBackend();
        var migrator = new V1MemoryMigrator(options: new V1MigrationOptions { SourceTimeZone = TimeZoneInfo.Utc });

        var report = await migrator.MigrateSessionsAsync("v1_sqlite:" + v1, target);
        var renamed = await new V1MemoryMigrator(v1, new V1MigrationOptions { SourceTimeZone = TimeZoneInfo.Utc })
            .MigrateMessagesAsync(new Dictionary<string, string> { ["v1-tools"] = "renamed" }, target);

        Assert.Equal((3, 1), (report.SessionsMigrated, report.SessionsSkipped));
        Assert.Equal(5 + 3 + 2, report.MessagesMigrated);
        Assert.Contains(report.Errors, e => e.Contains("v1-broken", StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e.Contains("narrator", StringComparison.Ordinal));
        Assert.Equal((1, 5L), (renamed.SessionsMigrated, renamed.MessagesMigrated));
        var copy = (await target.GetSessionAsync("renamed"))!;
        Assert.Equal("alice", copy.Metadata.UserId);
        Assert.Equal(5, (await copy.GetMessagesAsync()).Count);
        Assert.True(await migrator.ValidateMigrationAsync(new UsageStats { Backend = "v1_sqlite", TotalSessions = 3, TotalMessages = 10 }, await target.GetUsageStatsAsync()));
    }

    private static List<JsonObject> Session(List<JsonObject> lines, string id)
    {
        var start = lines.FindIndex(l => (string)l["type"]! == "session" && (string)l["session_id"]! == id);
        var end = lines.FindIndex(start + 1, l => (string)l["type"]! == "session");
        return lines.GetRange(start, (end < 0 ? lines.Count : end) - start);
    }

    public void Dispose() => _dir.Dispose();
}
