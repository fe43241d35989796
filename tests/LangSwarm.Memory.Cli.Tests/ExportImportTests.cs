using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

public sealed class ExportImportTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Engine => _dir.File("engine");

    [Fact]
    public async Task Engine_to_jsonl_to_sqlite_to_jsonl_gives_identical_bytes()
    {
        await Conversations.FillEngineAsync(Engine);
        var db = _dir.File("copy.db");

        var export = await Lsmem.RunAsync("export", "--store", Engine, "-o", _dir.File("a.jsonl"));
        var import = await Lsmem.RunAsync("import", _dir.File("a.jsonl"), "--store", "sqlite:" + db);
        var again = await Lsmem.RunAsync("export", "--store", "sqlite:" + db, "-o", _dir.File("b.jsonl"));

        Assert.Equal((0, 0, 0), (export.Exit, import.Exit, again.Exit));
        Assert.StartsWith("exported 3 session(s), ", export.Out, StringComparison.Ordinal);
        Assert.StartsWith("imported 3 session(s) (0 replacing existing ones), ", import.Out, StringComparison.Ordinal);
        var a = await File.ReadAllBytesAsync(_dir.File("a.jsonl"));
        Assert.Equal(a, await File.ReadAllBytesAsync(_dir.File("b.jsonl")));
        Assert.False(File.Exists(_dir.File("a.jsonl.partial")));
    }

    [Fact]
    public async Task The_format_is_a_session_line_then_messages_then_summaries_in_session_id_order()
    {
        await Conversations.FillEngineAsync(Engine);

        var run = await Lsmem.RunAsync("export", "--store", Engine);

        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var sessions = lines.Where(l => (string)l["type"]! == "session").Select(l => (string)l["session_id"]!).ToList();
        Assert.Equal(["chat-bob", "trip-old", "trip-sf"], sessions);
        var trip = lines.SkipWhile(l => (string?)l["session_id"] != "trip-sf").ToList();
        Assert.Equal(["session", "message", "message", "message", "message", "message", "message", "summary"], trip.Select(l => (string)l["type"]!));
        Assert.Equal(1, (int)trip[0]["format"]!);
        Assert.Equal("ß ✓", (string)trip[0]["metadata"]!["größe"]!);
        Assert.Equal("call_1", (string)trip[4]["metadata"]!["tool_call_id"]!);
        Assert.Equal(5, (long)trip[7]["last_sequence"]!);
        Assert.Contains("exported 3 session(s)", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_of_one_session_or_one_user()
    {
        await Conversations.FillEngineAsync(Engine);

        var one = await Lsmem.RunAsync("export", "--store", Engine, "--session", "chat-bob");
        var alice = await Lsmem.RunAsync("export", "--store", Engine, "--user", "alice");
        var missing = await Lsmem.RunAsync("export", "--store", Engine, "--session", "nope");

        Assert.Equal(["chat-bob"], ExportedIds(one.Out));
        Assert.Equal(["trip-old", "trip-sf"], ExportedIds(alice.Out));
        Assert.Equal(2, missing.Exit);
        Assert.Contains("no session 'nope'", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_refuses_existing_sessions_unless_told_to_replace_them()
    {
        await Conversations.FillEngineAsync(Engine);
        await Lsmem.RunAsync("export", "--store", Engine, "-o", _dir.File("all.jsonl"));

        var refused = await Lsmem.RunAsync("import", _dir.File("all.jsonl"), "--store", Engine);
        var replaced = await Lsmem.RunAsync("import", _dir.File("all.jsonl"), "--store", Engine, "--replace");
        await Lsmem.RunAsync("export", "--store", Engine, "-o", _dir.File("after.jsonl"));

        Assert.Equal(1, refused.Exit);
        Assert.Contains("skipped 3 existing, 0 failed", refused.Out, StringComparison.Ordinal);
        Assert.Contains("session 'trip-sf' exists", refused.Err, StringComparison.Ordinal);
        Assert.Equal(0, replaced.Exit);
        Assert.StartsWith("imported 3 session(s) (3 replacing existing ones)", replaced.Out, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(_dir.File("all.jsonl")), await File.ReadAllBytesAsync(_dir.File("after.jsonl")));
    }

    [Fact]
    public async Task A_session_with_a_bad_line_or_cut_short_is_not_imported_at_all_and_the_others_are()
    {
        await Conversations.FillEngineAsync(Engine);
        var export = await Lsmem.RunAsync("export", "--store", Engine);
        var lines = export.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        // chat-bob: a message that breaks the limits (empty user content) in its middle.
        var bobMessage = lines.FindIndex(l => l.Contains("\"message_id\":\"b8\"", StringComparison.Ordinal));
        lines[bobMessage] = lines[bobMessage].Replace("\"content\":\"turn 8\"", "\"content\":\"\"", StringComparison.Ordinal);
        // trip-sf, the last session: the file is cut before its summary line.
        lines.RemoveAt(lines.Count - 1);
        await File.WriteAllTextAsync(_dir.File("damaged.jsonl"), string.Join('\n', lines) + "\n");
        var db = "sqlite:" + _dir.File("t.db");

        var run = await Lsmem.RunAsync("import", _dir.File("damaged.jsonl"), "--store", db);
        var after = await Lsmem.RunAsync("sessions", "--store", db);

        Assert.Equal(1, run.Exit);
        Assert.Contains("imported 1 session(s)", run.Out, StringComparison.Ordinal);
        Assert.Contains("2 failed", run.Out, StringComparison.Ordinal);
        Assert.Contains("session 'chat-bob' (line 1) not imported", run.Err, StringComparison.Ordinal);
        Assert.Contains("session 'trip-sf' not imported", run.Err, StringComparison.Ordinal);
        Assert.Contains("cut short", run.Err, StringComparison.Ordinal);
        Assert.Contains("trip-old", after.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("chat-bob", after.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("trip-sf", after.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_that_fails_part_way_leaves_no_part_of_the_session()
    {
        await Conversations.FillEngineAsync(Engine);
        var db = _dir.File("t.db");
        await File.WriteAllTextAsync(_dir.File("empty.jsonl"), string.Empty);
        await Lsmem.RunAsync("import", _dir.File("empty.jsonl"), "--store", "sqlite:" + db); // creates the schema
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            // The store itself refuses one message once the session row exists: the write fails part way.
            command.CommandText = "CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.content = 'turn 8' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;";
            await command.ExecuteNonQueryAsync();
        }
        await Lsmem.RunAsync("export", "--store", Engine, "-o", _dir.File("all.jsonl"));

        var run = await Lsmem.RunAsync("import", _dir.File("all.jsonl"), "--store", "sqlite:" + db);
        var after = await Lsmem.RunAsync("sessions", "--store", "sqlite:" + db);

        Assert.Equal(1, run.Exit);
        Assert.Contains("refused by the test", run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("chat-bob", after.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_memory_backend_round_trips_the_same_bytes()
    {
        await Conversations.FillEngineAsync(Engine);
        var export = await Lsmem.RunAsync("export", "--store", Engine);
        await using var memory = new InMemoryBackend();
        await memory.ConnectAsync();

        var imported = await SessionImporter.ImportAsync(memory, new StringReader(export.Out), replace: false, new ProgressTicker(null), CancellationToken.None);
        using var again = new StringWriter();
        var exported = await SessionExporter.ExportAsync(memory, await SessionIds.ListAsync(memory, null, CancellationToken.None), again, new ProgressTicker(null), CancellationToken.None);

        Assert.Equal((3, 0), (imported.Imported, imported.Failed));
        Assert.Equal(3, exported.Sessions);
        Assert.Equal(export.Out, again.ToString());
    }

    private static List<string> ExportedIds(string jsonl) =>
        jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).Where(n => (string)n["type"]! == "session").Select(n => (string)n["session_id"]!).ToList();

    public void Dispose() => _dir.Dispose();
}
