using Microsoft.Data.Sqlite;
using Xunit;

namespace LangSwarm.Memory.Sqlite.Tests;

/// <summary>What the SQLite store and its handles do beyond the contract: two handles, incarnations, the version 3 migration.</summary>
public sealed class SqliteSessionStoreTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Message Msg(string text, int tokens) => new(MessageRole.User, text) { TokenCount = tokens };

    private static SessionMetadata Meta(string id) => new() { SessionId = id, UserId = "u1" };

    private static async Task<SqliteSessionStore> OpenAsync(string path)
    {
        var store = new SqliteSessionStore(new SqliteBackendOptions { DbPath = path });
        await store.OpenAsync(None);
        return store;
    }

    private static long Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<List<string>> ContentsAsync(ISessionHandle h)
    {
        var list = new List<string>();
        await foreach (var m in h.ReadMessagesAsync(MessageQuery.All, None))
        {
            list.Add(m.Content);
        }
        return list;
    }

    [Fact]
    public async Task TwoHandles_Interleaved_CountFromWhatIsStored()
    {
        await using var store = await OpenAsync(_dir.File("two.db"));
        var a = (await store.CreateSessionAsync(Meta("s"), None))!;
        var b = (await store.OpenSessionAsync("s", None))!;
        await a.AppendAsync([Msg("a1", 2), Msg("a2", 3)], DateTimeOffset.UtcNow, None);
        var batch = new[] { Msg("b1", 4) };
        var s = await b.AppendAsync(batch, DateTimeOffset.UtcNow, None);

        // b's cached state was stale (0 messages); the store counted from the row.
        Assert.Equal(3L, batch[0].Sequence);
        Assert.Equal((3L, 3, 9L), (s.LastSequence, s.LiveMessages, s.LiveTokens));
        s = await a.EvictAsync([3L, 1L], None);
        Assert.Equal((3L, 1, 3L), (s.LastSequence, s.LiveMessages, s.LiveTokens));
        Assert.Equal(["a2"], await ContentsAsync(b));
    }

    [Fact]
    public async Task TwoStoresOnOneFile_LikeTwoProcesses_CountFromWhatIsStored()
    {
        var path = _dir.File("shared.db");
        await using var first = await OpenAsync(path);
        await using var second = await OpenAsync(path);
        var a = (await first.CreateSessionAsync(Meta("s"), None))!;
        var b = (await second.OpenSessionAsync("s", None))!;
        await a.AppendAsync([Msg("a", 2)], DateTimeOffset.UtcNow, None);
        await b.AppendAsync([Msg("b", 3)], DateTimeOffset.UtcNow, None);
        var s = await a.AppendAsync([Msg("c", 4)], DateTimeOffset.UtcNow, None);
        Assert.Equal((3L, 3, 9L), (s.LastSequence, s.LiveMessages, s.LiveTokens));
        Assert.Equal(["a", "b", "c"], await ContentsAsync(b));
        Assert.True(await second.RemoveSessionAsync("s", None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => a.AppendAsync([Msg("d", 1)], DateTimeOffset.UtcNow, None));
    }

    [Fact]
    public async Task MetadataSavedByOneHandle_ReachesTheOtherOnItsNextWrite()
    {
        await using var store = await OpenAsync(_dir.File("meta.db"));
        var a = (await store.CreateSessionAsync(Meta("s"), None))!;
        var b = (await store.OpenSessionAsync("s", None))!;
        var changed = a.State.Metadata.Clone();
        changed.MaxMessages = 7;
        changed.Metadata["k"] = "v";
        await a.SaveAsync(changed, 0, 0, None);
        Assert.Equal(1000, b.State.Metadata.MaxMessages);

        var s = await b.AppendAsync([Msg("x", 1)], DateTimeOffset.UtcNow, None);
        Assert.Equal(7, s.Metadata.MaxMessages);
        Assert.Equal("v", s.Metadata.Metadata["k"]!.GetValue<string>());

        // The caller's object is not the store's: changing it afterwards changes nothing stored.
        changed.MaxMessages = 99;
        Assert.Equal(7, (await a.RefreshAsync(None)).Metadata.MaxMessages);
    }

    [Fact]
    public async Task RemovedSession_EveryReadOfAnOldHandleThrows_AndTouchesNothingOfTheNewOne()
    {
        await using var store = await OpenAsync(_dir.File("gone.db"));
        var old = (await store.CreateSessionAsync(Meta("s"), None))!;
        await old.AppendAsync([Msg("old", 1)], DateTimeOffset.UtcNow, None);
        await store.RemoveSessionAsync("s", None);
        var fresh = (await store.CreateSessionAsync(Meta("s"), None))!;
        await fresh.AppendAsync([Msg("new", 1)], DateTimeOffset.UtcNow, None);

        await Assert.ThrowsAsync<SessionNotFoundException>(() => ContentsAsync(old));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.ReadNewestMessagesAsync(MessageQuery.All, 5, None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.ReadNewestMessagesAsync(MessageQuery.All, 0, None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.ReadMessageInfosAsync(None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.ReadSummariesAsync(None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.EvictAsync([1L], None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.AddSummaryAsync(new ConversationSummary { SessionId = "s", SummaryText = "t", LastSequence = 1 }, None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.SaveAsync(Meta("s"), 5, 5, None));

        // The old handle's evict of sequence 1 rolled back: the new session's message 1 is still there.
        Assert.Equal(["new"], await ContentsAsync(fresh));
        var state = await fresh.RefreshAsync(None);
        Assert.Equal((1L, 1, 1L, 0L), (state.LastSequence, state.LiveMessages, state.LiveTokens, state.SummarizedThrough));
        Assert.Empty(await fresh.ReadSummariesAsync(None));
    }

    [Fact]
    public async Task EmptySession_ReadsGiveEmptyAnswers_NotNotFound()
    {
        await using var store = await OpenAsync(_dir.File("empty.db"));
        var h = (await store.CreateSessionAsync(Meta("s"), None))!;
        Assert.Empty(await ContentsAsync(h));
        Assert.Empty(await h.ReadNewestMessagesAsync(MessageQuery.All, 3, None));
        Assert.Empty(await h.ReadNewestMessagesAsync(MessageQuery.All, 0, None));
        Assert.Empty(await h.ReadMessageInfosAsync(None));
        Assert.Empty(await h.ReadSummariesAsync(None));
        await h.AppendAsync([Msg("a", 1)], DateTimeOffset.UtcNow, None);
        Assert.Empty(await h.ReadNewestMessagesAsync(new MessageQuery { Roles = [MessageRole.Tool] }, 3, None));
    }

    [Fact]
    public async Task CancelledAppend_StoresNothing_AndLeavesSequencesAtZero()
    {
        await using var store = await OpenAsync(_dir.File("cancel.db"));
        var h = (await store.CreateSessionAsync(Meta("s"), None))!;
        var batch = new[] { Msg("a", 1), Msg("b", 1) };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.AppendAsync(batch, DateTimeOffset.UtcNow, new CancellationToken(true)));
        Assert.Equal([0L, 0L], batch.Select(m => m.Sequence));
        Assert.Equal(0L, (await h.RefreshAsync(None)).LastSequence);
    }

    [Fact]
    public async Task ManySessions_AppendedConcurrently_KeepTheirCounts()
    {
        await using var store = await OpenAsync(_dir.File("many.db"));
        var handles = new List<ISessionHandle>();
        for (var i = 0; i < 8; i++)
        {
            handles.Add((await store.CreateSessionAsync(Meta("s" + i), None))!);
        }
        await Task.WhenAll(handles.Select(async h =>
        {
            for (var n = 0; n < 25; n++)
            {
                await h.AppendAsync([Msg("m", 2)], DateTimeOffset.UtcNow, None);
            }
        }));
        foreach (var h in handles)
        {
            var s = await h.RefreshAsync(None);
            Assert.Equal((25L, 25, 50L), (s.LastSequence, s.LiveMessages, s.LiveTokens));
        }
    }

    [Fact]
    public async Task Version2Database_Migrates_AndItsSessionsKeepWorking()
    {
        var path = _dir.File("v2.db");
        await using (var store = await OpenAsync(path))
        {
            var h = (await store.CreateSessionAsync(Meta("old"), None))!;
            await h.AppendAsync([Msg("a", 3)], DateTimeOffset.UtcNow, None);
        }
        // Back to the version 2 layout.
        Scalar(path, "ALTER TABLE sessions DROP COLUMN incarnation; ALTER TABLE sessions DROP COLUMN revision; " +
            "DROP TABLE counters; DROP INDEX ix_messages_session_role; DELETE FROM schema_version WHERE version > 2; SELECT 0");

        await using (var store = await OpenAsync(path))
        {
            var old = (await store.OpenSessionAsync("old", None))!;
            Assert.Equal((1L, 1, 3L), (old.State.LastSequence, old.State.LiveMessages, old.State.LiveTokens));
            var s = await old.AppendAsync([Msg("b", 4)], DateTimeOffset.UtcNow, None);
            Assert.Equal((2L, 2, 7L), (s.LastSequence, s.LiveMessages, s.LiveTokens));
            var byRole = await old.ReadNewestMessageInfosAsync(new MessageQuery { Roles = [MessageRole.User] }, 5, None);
            Assert.Equal([1L, 2L], byRole.Select(i => i.Sequence)); // the rows from before the index, and after it
            await store.RemoveSessionAsync("old", None);
            Assert.NotNull(await store.CreateSessionAsync(Meta("old"), None));
            await Assert.ThrowsAsync<SessionNotFoundException>(() => old.RefreshAsync(None));
        }
        Assert.Equal(SqliteSchema.CurrentVersion, Scalar(path, "SELECT MAX(version) FROM schema_version"));
        Assert.Equal(0, Scalar(path, "SELECT COUNT(*) FROM sessions WHERE incarnation = 0"));
    }
}
