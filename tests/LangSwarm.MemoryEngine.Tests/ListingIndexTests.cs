using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Device;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Listings and cleanup read from the index file's listing key spaces (U, T, A) plus the overlay of sessions
/// listed otherwise since the file's last commit: against a model over creates, adds, status changes,
/// deletes, checkpoints and reopens; the overlay empties at a checkpoint; old files are upgraded at open.
/// </summary>
public sealed class ListingIndexTests
{
    private static readonly IComparer<byte[]> Bytes = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    [Fact]
    public void ScanReverse_VisitsEveryKeyOfTheRange_GreatestFirst()
    {
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<int>(), seed =>
        {
            var rng = new Random(seed);
            var fs = new FaultInjectingFileSystem();
            var model = new SortedSet<byte[]>(Bytes);
            using var tree = BPlusTree.Open(fs, "t.btree");
            var count = rng.Next(0, 3_000);
            for (var i = 0; i < count; i++)
            {
                var key = new byte[rng.Next(1, 12)];
                rng.NextBytes(key);
                tree.Put(key, key);
                model.Add(key);
            }
            tree.Commit(0, 0, 0);
            for (var q = 0; q < 20; q++)
            {
                var a = new byte[rng.Next(0, 4)];
                var b = new byte[rng.Next(0, 4)];
                rng.NextBytes(a);
                rng.NextBytes(b);
                var (from, to) = Bytes.Compare(a, b) <= 0 ? (a, b) : (b, a);
                var stopAfter = rng.Next(1, 50);
                var expected = model.Where(k => Bytes.Compare(k, from) >= 0 && Bytes.Compare(k, to) < 0).Reverse().Take(stopAfter).ToList();
                var got = new List<byte[]>();
                tree.ScanReverse(from, to, (k, v) =>
                {
                    Assert.Equal(k, v);
                    got.Add(k);
                    return got.Count < stopAfter;
                });
                Assert.Equal(expected.Select(Convert.ToHexString), got.Select(Convert.ToHexString));
            }
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40), prop);
    }

    [Fact]
    public async Task Listings_MatchTheModel_AcrossAddsStatusChangesDeletesCheckpointsAndReopens()
    {
        using var dir = new TempStore();
        var rng = new Random(7);
        var backend = await OpenAsync(dir.Path);
        var ids = new List<string>();
        var archived = new HashSet<string>();
        var clock = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        try
        {
            for (var step = 0; step < 400; step++)
            {
                var op = rng.Next(10);
                if (op < 3 || ids.Count == 0)
                {
                    var id = $"s{step:D4}";
                    // Some sessions share an activity time, so ties (ordered by id) cross the file and the overlay.
                    var at = clock.AddSeconds(rng.Next(0, 3) == 0 ? 0 : step);
                    await backend.CreateSessionAsync(new SessionMetadata(id, rng.Next(4) == 0 ? null : $"user{rng.Next(3)}") { CreatedAt = at, UpdatedAt = at, SummaryStrategy = SummaryStrategy.Manual });
                    ids.Add(id);
                }
                else if (op < 7)
                {
                    var id = ids[rng.Next(ids.Count)];
                    var s = await backend.GetSessionAsync(id);
                    if (archived.Contains(id))
                    {
                        continue; // read-only
                    }
                    if (op < 6)
                    {
                        await s!.AddMessageAsync(new Message(MessageRole.User, "hi") { TokenCount = 1 });
                    }
                    else
                    {
                        await s!.ArchiveSessionAsync();
                        archived.Add(id);
                    }
                }
                else if (op == 7)
                {
                    var id = ids[rng.Next(ids.Count)];
                    Assert.True(await backend.DeleteSessionAsync(id));
                    ids.Remove(id);
                }
                else if (op == 8)
                {
                    await backend.CheckpointAsync();
                    Assert.Equal(0, backend.Engine.Index.OverlayCount);
                }
                else if (rng.Next(4) == 0)
                {
                    await backend.DisposeAsync();
                    backend = await OpenAsync(dir.Path);
                }
                await AssertListingsAsync(backend, rng);
            }
            Assert.True((await backend.VerifyAsync()).Ok);
        }
        finally
        {
            await backend.DisposeAsync();
        }
    }

    [Fact]
    public async Task Cleanup_FindsIdleSessions_FromTheFileAndTheOverlay()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        var old = DateTimeOffset.UtcNow.AddDays(-90);
        for (var i = 0; i < 10; i++)
        {
            await backend.CreateSessionAsync(new SessionMetadata($"old{i}") { CreatedAt = old, UpdatedAt = old });
        }
        await backend.CheckpointAsync(); // these ten are in the file
        for (var i = 0; i < 5; i++)
        {
            await backend.CreateSessionAsync(new SessionMetadata($"older{i}") { CreatedAt = old, UpdatedAt = old }); // overlay only
        }
        var touched = await backend.GetSessionAsync("old3"); // moves out of the idle range, in the overlay
        await touched!.AddMessageAsync(new Message(MessageRole.User, "back again"));
        await backend.CreateSessionAsync(new SessionMetadata("fresh"));

        Assert.Equal(14, await backend.CleanupExpiredSessionsAsync(maxAgeDays: 30));
        var left = await backend.ListSessionsAsync();
        Assert.Equal(["fresh", "old3"], left.Select(m => m.SessionId).Order(StringComparer.Ordinal));
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task AFileWithTheOldUserKeys_IsUpgradedAtOpen_AndListsAsBefore()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        for (var i = 0; i < 30; i++)
        {
            await backend.CreateSessionAsync(new SessionMetadata($"s{i:D2}", $"user{i % 3}"));
        }
        var before = await backend.ListSessionsAsync(userId: "user1");
        await backend.DisposeAsync();

        // Write the file back to the first layout: user keys end in the plain session number, no status keys,
        // no layout marker.
        var fs = new PhysicalFileSystem(dir.Path);
        using (var tree = BPlusTree.Open(fs, IndexFile.FileName))
        {
            var users = new List<byte[]>();
            tree.Scan([IndexKeys.User], [IndexKeys.User + 1], (k, _) =>
            {
                users.Add(k);
                return true;
            });
            Assert.Equal(30, users.Count);
            foreach (var k in users)
            {
                tree.Delete(k);
                var old = (byte[])k.Clone();
                BinaryPrimitives.WriteUInt64BigEndian(old.AsSpan(old.Length - 8), ulong.MaxValue - BinaryPrimitives.ReadUInt64BigEndian(k.AsSpan(k.Length - 8)));
                tree.Put(old, []);
            }
            tree.DeleteRange([IndexKeys.Status], [IndexKeys.Status + 1]);
            Assert.True(tree.Delete(IndexKeys.LayoutKey));
            tree.Commit(tree.Meta.User0, tree.Meta.User1, tree.Meta.User2);
        }

        backend = await OpenAsync(dir.Path);
        Assert.Equal(before.Select(m => m.SessionId), (await backend.ListSessionsAsync(userId: "user1")).Select(m => m.SessionId));
        Assert.Equal(30, (await backend.ListSessionsAsync(status: SessionStatus.Active)).Count);
        Assert.Equal(0, backend.Engine.Index.OverlayCount);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();

        using var upgraded = BPlusTree.Open(fs, IndexFile.FileName);
        Assert.True(upgraded.TryGet(IndexKeys.LayoutKey, out var layout));
        Assert.Equal(IndexKeys.CurrentLayout, BinaryPrimitives.ReadUInt32BigEndian(layout));
    }

    [Fact]
    public async Task AFileWithANewerLayout_IsRefused_NotRebuilt()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        await backend.CreateSessionAsync(new SessionMetadata("s"));
        await backend.DisposeAsync();
        var fs = new PhysicalFileSystem(dir.Path);
        using (var tree = BPlusTree.Open(fs, IndexFile.FileName))
        {
            tree.Put(IndexKeys.LayoutKey, [0, 0, 0, 99]);
            tree.Commit(tree.Meta.User0, tree.Meta.User1, tree.Meta.User2);
        }
        var refused = new EngineBackend(new EngineOptions { Path = dir.Path, Durability = DurabilityMode.None });
        await Assert.ThrowsAsync<StoreVersionException>(() => refused.ConnectAsync());
        await refused.DisposeAsync();
    }

    [Fact]
    public async Task RoleQueries_MatchAFilterOfAllMessages_FromTheFileHotAndCold()
    {
        using var dir = new TempStore();
        var rng = new Random(11);
        var backend = await OpenAsync(dir.Path);
        var t0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var session = await backend.CreateSessionAsync(new SessionMetadata("long") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = 1_000_000, MaxTokens = 100_000_000 });
        var next = 0;
        async Task AddAsync(int count)
        {
            var batch = new List<Message>();
            for (var i = 0; i < count; i++, next++)
            {
                // Times mostly rise with the sequence, and sometimes step back.
                var at = t0.AddSeconds(next - (rng.Next(10) == 0 ? rng.Next(0, 500) : 0));
                batch.Add(new Message((MessageRole)rng.Next(0, 5), $"m{next}") { Timestamp = at, TokenCount = 1 });
            }
            await session.AddMessagesAsync(batch);
        }
        await AddAsync(3_000);
        await backend.CheckpointAsync(); // committed: the role keys answer up to here
        await AddAsync(700);             // the tail: in memory only
        await AssertRoleQueriesAsync(session, rng, 30);

        await backend.DisposeAsync();
        backend = await OpenAsync(dir.Path);
        session = (await backend.GetSessionAsync("long"))!;
        var entry = backend.Engine.Index.Resident().Single();
        Assert.False(entry.MessagesLoaded);
        var cold = await session.GetMessagesAsync(limit: 10, roles: [MessageRole.Tool]);
        Assert.Equal(10, cold.Count);
        Assert.False(entry.MessagesLoaded); // answered from the file without loading the session's 3,700 entries
        // With since: the role keys hold no time (layout 5), so candidates are resolved newest first a chunk at
        // a time; some times run backwards, so a chunk may hold older messages than since.
        var sinceTimes = new List<DateTimeOffset>();
        var limits = new List<int>();
        var coldSince = new List<IReadOnlyList<Message>>();
        for (var q = 0; q < 10; q++)
        {
            sinceTimes.Add(t0.AddSeconds(rng.Next(0, 3_000)));
            limits.Add(1 + rng.Next(60));
            coldSince.Add(await session.GetMessagesAsync(limit: limits[q], since: sinceTimes[q], roles: [MessageRole.User, MessageRole.Tool]));
        }
        Assert.False(entry.MessagesLoaded);
        var every = await session.GetMessagesAsync();
        for (var q = 0; q < coldSince.Count; q++)
        {
            var matching = every.Where(m => m.Role is MessageRole.User or MessageRole.Tool && m.Timestamp >= sinceTimes[q]).ToList();
            Assert.Equal(matching.Skip(Math.Max(0, matching.Count - limits[q])).Select(m => m.Sequence), coldSince[q].Select(m => m.Sequence));
        }
        await AssertRoleQueriesAsync(session, rng, 30);

        // Evict the oldest 1,000 (a cut below the first live sequence), then ask again before and after the
        // checkpoint that removes their keys from the file.
        await session.UpdateMetadataAsync(new Dictionary<string, object?> { ["max_messages"] = 2_700 });
        await AddAsync(1);
        Assert.InRange((await session.GetMessagesAsync()).Count, 1, 2_700);
        await AssertRoleQueriesAsync(session, rng, 20);
        await backend.CheckpointAsync();
        await AssertRoleQueriesAsync(session, rng, 20);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    private static async Task AssertRoleQueriesAsync(IMemorySession session, Random rng, int queries)
    {
        var all = await session.GetMessagesAsync();
        for (var q = 0; q < queries; q++)
        {
            var roles = Enum.GetValues<MessageRole>().Where(_ => rng.Next(3) == 0).ToArray();
            if (roles.Length == 0)
            {
                roles = [MessageRole.Assistant];
            }
            DateTimeOffset? since = rng.Next(2) == 0 ? null : all[rng.Next(all.Count)].Timestamp;
            int? limit = rng.Next(3) == 0 ? null : rng.Next(1, 80);
            var matching = all.Where(m => roles.Contains(m.Role) && (since is null || m.Timestamp >= since)).ToList();
            var expected = limit is { } n ? matching.Skip(Math.Max(0, matching.Count - n)) : matching;
            var got = await session.GetMessagesAsync(limit, since, roles);
            Assert.Equal(expected.Select(m => m.Sequence), got.Select(m => m.Sequence));
            Assert.Equal(expected.Select(m => m.Content), got.Select(m => m.Content));
        }
    }

    private static async Task<EngineBackend> OpenAsync(string path)
    {
        var backend = new EngineBackend(new EngineOptions { Path = path, Durability = DurabilityMode.None });
        await backend.ConnectAsync();
        return backend;
    }

    /// <summary>Every listing (all, by user, by status, by both; several pages) equals the model's.</summary>
    private static async Task AssertListingsAsync(EngineBackend backend, Random rng)
    {
        var all = backend.Engine.Index.LoadAll().Select(e => e.State.Metadata).ToList();
        string?[] users = [null, "user0", "user1", "user2"];
        SessionStatus?[] statuses = [null, SessionStatus.Active, SessionStatus.Archived];
        var user = users[rng.Next(users.Length)];
        var status = statuses[rng.Next(statuses.Length)];
        var limit = rng.Next(1, 12);
        var offset = rng.Next(0, 8);
        var expected = all
            .Where(m => (user is null || m.UserId == user) && (status is null || m.Status == status))
            .OrderByDescending(m => m.UpdatedAt.UtcTicks)
            .ThenBy(m => m.SessionId, StringComparer.Ordinal)
            .Skip(offset)
            .Take(limit)
            .Select(m => m.SessionId);
        var got = await backend.ListSessionsAsync(user, status, limit, offset);
        Assert.Equal(expected, got.Select(m => m.SessionId));
    }
}
