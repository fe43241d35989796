using System.Buffers.Binary;
using System.Text;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>Regressions found reviewing the index file: page splits, damaged trees, and the rebuild after damage.</summary>
public sealed class IndexReviewTests
{
    private const string Name = "index.btree";

    [Fact]
    public void LeafSplit_AroundALargeEntryInTheMiddle_LeavesBothHalvesWithinAPage()
    {
        var fs = new FaultInjectingFileSystem();
        using var tree = BPlusTree.Open(fs, Name);
        var model = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        // 20 entries of 108 bytes below the big key and 2 above it: 2,376 bytes, one leaf.
        for (var i = 0; i < 20; i++)
        {
            Put($"a{i:D3}", 100);
        }
        for (var i = 0; i < 2; i++)
        {
            Put($"c{i:D3}", 100);
        }
        tree.Commit(0, 0, 0);
        // A 2,004-byte entry (1,000-byte key, 1,000-byte inline value) lands between them: the byte midpoint
        // falls inside it, and a split that keeps it on the left leaves 4,164 bytes there.
        Put("b" + new string('x', BPlusTree.MaxKey - 1), BPlusTree.MaxInline);
        tree.Commit(0, 0, 0);

        Assert.Empty(tree.Check());
        foreach (var (k, v) in model)
        {
            Assert.True(tree.TryGet(Encoding.ASCII.GetBytes(k), out var got), k);
            Assert.Equal(v, got);
        }
        using var reopened = BPlusTree.Open(fs, Name);
        Assert.Empty(reopened.Check());
        Assert.Equal((ulong)model.Count, reopened.Count);

        void Put(string key, int valueLength)
        {
            var v = new byte[valueLength];
            new Random(key.Length + valueLength).NextBytes(v);
            tree.Put(Encoding.ASCII.GetBytes(key), v);
            model[key] = v;
        }
    }

    [Fact]
    public async Task BranchPagesThatPointAtEachOther_AreRejected_NotFollowedForever()
    {
        var fs = new FaultInjectingFileSystem();
        var file = new byte[4 * BTreePageHeader.PageSize];
        new BTreeMeta(0, 0, 0, 2, 0, 0, 0, 0, 0).WriteTo(file.AsSpan(0, BTreePageHeader.PageSize));
        new BTreeMeta(1, 2, 0, 4, 1, 0, 0, 0, 0).WriteTo(file.AsSpan(BTreePageHeader.PageSize, BTreePageHeader.PageSize));
        Branch(2, child: 3);
        Branch(3, child: 2);
        using (var f = fs.Open(Name, create: true))
        {
            f.Write(0, file);
            f.Flush();
        }

        using var tree = BPlusTree.Open(fs, Name);
        var lookup = Task.Run(() => Assert.Throws<InvalidDataException>(() => tree.TryGet("k"u8, out _)));
        var first = await Task.WhenAny(lookup, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(first == lookup, "TryGet kept following a cycle of branch pages");
        await lookup;

        void Branch(uint page, uint child)
        {
            var span = file.AsSpan((int)page * BTreePageHeader.PageSize, BTreePageHeader.PageSize);
            new BTreePageHeader(BTreePageType.Branch, 1, page, 0, 1).WriteTo(span);
            BinaryPrimitives.WriteUInt32LittleEndian(span[BTreePageHeader.Size..], child);
            BTreePageHeader.Seal(span);
        }
    }

    [Fact]
    public async Task ShortKeyInTheSessionSpace_IsDamage_NotAnUndocumentedException()
    {
        var fs = new FaultInjectingFileSystem();
        var options = new EngineOptions { Path = "store", FileSystem = fs, Durability = DurabilityMode.Strict };
        var backend = new EngineBackend(options);
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("a", "u") { SummaryStrategy = SummaryStrategy.Manual });
        await s.AddMessageAsync(new Message(MessageRole.User, "hello") { TokenCount = 2 });
        await backend.DisposeAsync();

        // A checksummed page whose S key is too short for a session number (a bug or a forged file).
        using (var tree = BPlusTree.Open(fs, IndexFile.FileName))
        {
            tree.Put([IndexKeys.Session, 1], [1]);
            tree.Commit(tree.Meta.User0, tree.Meta.User1, tree.Meta.User2);
        }

        backend = new EngineBackend(options);
        await backend.ConnectAsync(); // the file is ignored and rebuilt from the segments
        Assert.Equal(["hello"], (await (await backend.GetSessionAsync("a"))!.GetMessagesAsync()).Select(m => m.Content));
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task IndexRebuiltByVacuum_NamesOnlySegmentDataThatIsDurable()
    {
        var fs = new FaultInjectingFileSystem();
        var options = new EngineOptions { Path = "store", FileSystem = fs, Durability = DurabilityMode.Strict, CheckpointLogBytes = 64 << 20, IndexCompactMinFreeBytes = 0 };
        var backend = new EngineBackend(options);
        await backend.ConnectAsync();
        for (var k = 0; k < 60; k++)
        {
            var s = await backend.CreateSessionAsync(new SessionMetadata($"s{k}", $"user{k % 3}") { SummaryStrategy = SummaryStrategy.Manual });
            // s4's entries fill pages of their own: a commit refills the leaves the deletes below thin out, so
            // a shorter s4 would share its page with s56's entries and leave nothing to damage apart from them.
            await s.AddMessagesAsync(Enumerable.Range(0, k == 4 ? 400 : 20).Select(i => new Message(MessageRole.User, $"s{k} m{i}") { TokenCount = 3 }));
        }
        await backend.CheckpointAsync();
        for (var k = 0; k < 60; k++)
        {
            if (k is not (4 or 56))
            {
                await backend.DeleteSessionAsync($"s{k}");
            }
        }
        await backend.DisposeAsync();

        backend = await Reopen();
        var pages = backend.Engine.IndexFileBytes / BTreePageHeader.PageSize;
        Assert.True(pages > 8 && backend.Engine.IndexFreePages >= pages / 2, $"{backend.Engine.IndexFreePages} of {pages} pages free: vacuum would not repack");

        // Acknowledged (in the fsynced log), and in s56's segment, not yet fsynced there.
        await (await backend.GetSessionAsync("s56"))!.AddMessageAsync(new Message(MessageRole.User, "late") { TokenCount = 2 });

        // Damage the pages holding s4's message entries (not read since the open), so the index repack fails
        // and the engine rebuilds the file from memory.
        Assert.True(backend.Engine.Index.TryGet("s4", out var victim));
        Assert.True(backend.Engine.Index.TryGet("s56", out var late));
        var damaged = DamageLeaves(fs, IndexKeys.RangeStart(IndexKeys.Message, victim.Number), IndexKeys.RangeStart(IndexKeys.Message, late.Number));
        Assert.True(damaged > 0);
        await backend.Engine.VacuumAsync(2.0, CancellationToken.None);
        Assert.Contains(backend.Engine.Damage, d => d.Reason.Contains("index file damaged", StringComparison.Ordinal));

        // Power loss: every write not fsynced is gone.
        fs.Kill();
        backend.Abandon();
        fs.Crash(new ZeroRandom());

        backend = await Reopen();
        var got = (await (await backend.GetSessionAsync("s56"))!.GetMessagesAsync()).Select(m => m.Content).ToList();
        Assert.Equal([.. Enumerable.Range(0, 20).Select(i => $"s56 m{i}"), "late"], got);
        await backend.DisposeAsync();

        async Task<EngineBackend> Reopen()
        {
            var b = new EngineBackend(options);
            await b.ConnectAsync();
            return b;
        }
    }

    /// <summary>Breaks the checksum of every leaf page that holds <paramref name="pattern"/> but not <paramref name="spare"/>.</summary>
    private static int DamageLeaves(FaultInjectingFileSystem fs, byte[] pattern, byte[] spare)
    {
        var n = 0;
        using var f = fs.Open(IndexFile.FileName, create: false);
        var page = new byte[BTreePageHeader.PageSize];
        for (uint p = 2; p * (long)BTreePageHeader.PageSize < f.Length; p++)
        {
            f.Read(p * (long)BTreePageHeader.PageSize, page);
            if (BTreePageHeader.TryRead(page, p, out var h) is null && h.Type == BTreePageType.Leaf
                && page.AsSpan().IndexOf(pattern) >= 0 && page.AsSpan().IndexOf(spare) < 0)
            {
                page[BTreePageHeader.PageSize - 1] ^= 0x5A;
                f.Write(p * (long)BTreePageHeader.PageSize, page);
                n++;
            }
        }
        f.Flush();
        return n;
    }

    /// <summary>A crash that keeps no unsynced write.</summary>
    private sealed class ZeroRandom : Random
    {
        public override int Next(int maxValue) => 0;

        public override int Next(int minValue, int maxValue) => minValue;
    }
}
