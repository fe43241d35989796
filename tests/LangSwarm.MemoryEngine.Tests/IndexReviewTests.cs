using System.Buffers.Binary;
using System.Text;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Storage;
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
}
