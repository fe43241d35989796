using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

public sealed class MigrateTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Engine => _dir.File("engine");

    private string Target => "sqlite:" + _dir.File("target.db");

    [Fact]
    public async Task Migrate_copies_every_session_identically_and_verifies()
    {
        await Conversations.FillEngineAsync(Engine);

        var run = await Lsmem.RunAsync("migrate", "--from", "engine:" + Engine, "--to", Target);

        Assert.Equal(0, run.Exit);
        Assert.Contains("copied 3, copied again 0 (partial), already there 0, conflicts 0, failed 0;", run.Out, StringComparison.Ordinal);
        Assert.Contains("verified 3", run.Out, StringComparison.Ordinal);
        Assert.Equal((await Lsmem.RunAsync("export", "--store", Engine)).Out, (await Lsmem.RunAsync("export", "--store", Target)).Out);
    }

    [Fact]
    public async Task An_interrupted_migrate_resumes_and_skips_what_it_already_copied()
    {
        await Conversations.FillEngineAsync(Engine);
        using var cancel = new CancellationTokenSource();
        var io = CliIO.Plain(new StringWriter(), new StringWriter());

        var interrupted = await MigrateCommand.RunAsync(io, "engine:" + Engine, Target, replace: false, verify: true, zoneId: null, quiet: true, afterSession: handled =>
        {
            if (handled == 2)
            {
                cancel.Cancel();
            }
        }, cancel.Token);
        var resumed = await Lsmem.RunAsync("migrate", "--from", "engine:" + Engine, "--to", Target);

        Assert.Equal(1, interrupted);
        Assert.Contains("run the same command again to resume", io.Err.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, resumed.Exit);
        Assert.Contains("copied 1, copied again 0 (partial), already there 2,", resumed.Out, StringComparison.Ordinal);
        Assert.Contains("verified 3", resumed.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_partial_copy_left_by_a_crash_is_copied_again()
    {
        await Conversations.FillEngineAsync(Engine);
        await Lsmem.RunAsync("migrate", "--from", "engine:" + Engine, "--to", Target);
        // What a process killed in the middle of copying chat-bob leaves: the session with its first messages only.
        var export = await Lsmem.RunAsync("export", "--store", Target, "--session", "chat-bob");
        var lines = export.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = System.Text.Json.Nodes.JsonNode.Parse(lines[0])!;
        header["messages"] = 2;
        header["status"] = "active";
        header["max_messages"] = int.MaxValue;
        await File.WriteAllTextAsync(_dir.File("partial.jsonl"), header.ToJsonString() + "\n" + lines[1] + "\n" + lines[2] + "\n");
        Assert.Equal(0, (await Lsmem.RunAsync("import", _dir.File("partial.jsonl"), "--store", Target, "--replace")).Exit);

        var run = await Lsmem.RunAsync("migrate", "--from", "engine:" + Engine, "--to", Target);

        Assert.Equal(0, run.Exit);
        Assert.Contains("copied 0, copied again 1 (partial), already there 2,", run.Out, StringComparison.Ordinal);
        Assert.Equal((await Lsmem.RunAsync("export", "--store", Engine)).Out, (await Lsmem.RunAsync("export", "--store", Target)).Out);
    }

    [Fact]
    public async Task A_different_session_of_the_same_id_is_a_conflict_left_alone_unless_replace()
    {
        await Conversations.FillEngineAsync(Engine);
        await using (var other = new LangSwarm.Memory.Sqlite.SqliteBackend(new LangSwarm.Memory.Sqlite.SqliteBackendOptions { DbPath = _dir.File("target.db") }))
        {
            await other.ConnectAsync();
            var s = await other.CreateSessionAsync(new SessionMetadata("trip-sf", "mallory"));
            await s.AddMessageAsync(new Message(MessageRole.User, "not the same conversation"));
        }

        var conflict = await Lsmem.RunAsync("migrate", "--from", "engine:" + Engine, "--to", Target);
        var replaced = await Lsmem.RunAsync("migrate", "--from", "engine:" + Engine, "--to", Target, "--replace");

        Assert.Equal(1, conflict.Exit);
        Assert.Contains("conflicts 1", conflict.Out, StringComparison.Ordinal);
        Assert.Contains("session 'trip-sf' exists in the target with other content", conflict.Err, StringComparison.Ordinal);
        Assert.Contains("verify: session 'trip-sf' differs", conflict.Err, StringComparison.Ordinal);
        Assert.Equal(0, replaced.Exit);
        Assert.Contains("copied again 1", replaced.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_the_target_refuses_part_way_is_reported_and_not_left_half_copied()
    {
        await Conversations.FillEngineAsync(Engine);
        await File.WriteAllTextAsync(_dir.File("empty.jsonl"), string.Empty);
        await Lsmem.RunAsync("import", _dir.File("empty.jsonl"), "--store", Target); // creates the schema
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.File("target.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.content = 'turn 8' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;";
            await command.ExecuteNonQueryAsync();
        }

        var run = await Lsmem.RunAsync("migrate", "--from", "engine:" + Engine, "--to", Target);
        var after = await Lsmem.RunAsync("sessions", "--store", Target);

        Assert.Equal(1, run.Exit);
        Assert.Contains("copied 2, copied again 0 (partial), already there 0, conflicts 0, failed 1;", run.Out, StringComparison.Ordinal);
        Assert.Contains("session 'chat-bob' not copied: ", run.Err, StringComparison.Ordinal);
        Assert.Contains("verify: session 'chat-bob' is not in the target", run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("chat-bob", after.Out, StringComparison.Ordinal);
        Assert.Contains("trip-sf", after.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--from", "engine:/x")]
    [InlineData("--from", "nosuch:/x", "--to", "engine:/y")]
    [InlineData("--from", "engine:/x", "--to", "v1_sqlite:/y")]
    [InlineData("--from", "v1_sqlite:/does/not/exist.db", "--to", "in_memory")]
    public async Task Bad_migrate_lines_exit_2(params string[] args)
    {
        var run = await Lsmem.RunAsync(["migrate", .. args]);

        Assert.Equal(2, run.Exit);
        Assert.NotEmpty(run.Err);
    }

    public void Dispose() => _dir.Dispose();
}
