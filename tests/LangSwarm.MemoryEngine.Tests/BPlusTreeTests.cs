using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Device;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// The copy-on-write B+tree of the index file, against a sorted-dictionary model: generated programs of puts,
/// deletes, range deletes, commits, rollbacks, reopens and compactions, with crashes (lost, torn, reordered
/// unsynced writes) at generated points. After a crash the tree is exactly the last committed state — or,
/// when the crash hit inside a commit, possibly the state that commit was making durable.
/// </summary>
public sealed class BPlusTreeTests
{
    private const string Name = "index.btree";

    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("LSMEM_CRASH_CASES"), out var n) ? n : 150;

    private static readonly IComparer<byte[]> Bytes = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    [Fact]
    public void MatchesModel_AcrossCommitsReopensCompactionsAndCrashes()
    {
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), ArbMap.Default.ArbFor<int>(), (program, seed) => Run(program, seed));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases), prop);
    }

    [Fact]
    public void ManyEntries_BuildSeveralLevels_AndCompactionRepacksThem()
    {
        var fs = new FaultInjectingFileSystem();
        var model = new SortedDictionary<byte[], byte[]>(Bytes);
        using (var tree = BPlusTree.Open(fs, Name))
        {
            // Interleaved "sessions" appending in sequence order, as the engine writes message entries.
            for (var seq = 0; seq < 400; seq++)
            {
                for (var s = 0; s < 50; s++)
                {
                    var k = Key(s, seq);
                    var v = Value(seq * s, 32);
                    tree.Put(k, v);
                    model[k] = v;
                }
                if (seq % 50 == 49)
                {
                    tree.Commit(1, 2, 3);
                }
            }
            tree.Commit(1, 2, 3);
            Assert.Empty(tree.Check());
            AssertEqual(model, tree);

            // Evict the first half of every session, as the live window moves on.
            for (var s = 0; s < 50; s++)
            {
                Assert.Equal(200, tree.DeleteRange(Key(s, 0), Key(s, 200)));
                for (var seq = 0; seq < 200; seq++)
                {
                    model.Remove(Key(s, seq));
                }
            }
            tree.Commit(4, 5, 6);
            AssertEqual(model, tree);
            var before = tree.FileBytes;
            var shrunk = tree.Compact();
            Assert.True(shrunk > before / 3, $"compaction took the file from {before} only by {shrunk} bytes");
            Assert.Empty(tree.Check());
            Assert.Equal((4UL, 5UL, 6UL), (tree.Meta.User0, tree.Meta.User1, tree.Meta.User2));
            AssertEqual(model, tree);
        }
        using var reopened = BPlusTree.Open(fs, Name);
        AssertEqual(model, reopened);
        Assert.Empty(reopened.Check());
    }

    [Fact]
    public void PointLookups_OnLeavesNotInTheCache_FindExactlyWhatTheTreeHolds()
    {
        // A reopened tree has nothing cached: each lookup searches its leaf's bytes (LeafSearch), never parses it.
        var fs = new FaultInjectingFileSystem();
        var model = new SortedDictionary<byte[], byte[]>(Bytes);
        var rnd = new Random(7);
        using (var tree = BPlusTree.Open(fs, Name))
        {
            for (var i = 0; i < 3_000; i++)
            {
                // Keys sharing long prefixes, some at the longest allowed, values inline and in overflow chains.
                var length = i % 97 == 0 ? BPlusTree.MaxKey : 2 + rnd.Next(40);
                var k = new byte[length];
                k[0] = (byte)"MSU"[i % 3];
                rnd.NextBytes(k.AsSpan(1 + Math.Min(length - 1, 6)));
                var v = Value(i, i % 211 == 0 ? BPlusTree.MaxInline + 1 + rnd.Next(9_000) : rnd.Next(0, 120));
                tree.Put(k, v);
                model[k] = v;
            }
            tree.Commit(1, 2, 3);
        }
        using var reopened = BPlusTree.Open(fs, Name);
        foreach (var (k, v) in model)
        {
            Assert.True(reopened.TryGet(k, out var got));
            Assert.Equal(v, got);
            // Just above and just below each key: absent unless the model holds them.
            var above = k.Length < BPlusTree.MaxKey ? [.. k, 0] : k[..^1];
            Assert.Equal(model.TryGetValue(above, out var expected), reopened.TryGet(above, out got));
            Assert.Equal(expected ?? [], got);
        }
        Assert.False(reopened.TryGet([0], out _));
        Assert.False(reopened.TryGet([0xFF, 0xFF], out _));
    }

    [Fact]
    public void LargeValues_GoToOverflowChains_AndTheirPagesAreReused()
    {
        var fs = new FaultInjectingFileSystem();
        using var tree = BPlusTree.Open(fs, Name);
        var big = Value(7, 50_000);
        tree.Put("a"u8, big);
        tree.Commit(0, 0, 0);
        Assert.True(tree.TryGet("a"u8, out var got));
        Assert.Equal(big, got);
        var size = tree.FileBytes;
        for (var i = 0; i < 10; i++)
        {
            var v = Value(i, 50_000);
            tree.Put("a"u8, v);
            tree.Commit(0, 0, 0);
            Assert.True(tree.TryGet("a"u8, out got));
            Assert.Equal(v, got);
        }
        // Each rewrite frees the previous chain; the file does not grow by a chain per commit.
        Assert.True(tree.FileBytes <= (size * 2) + (4 * BTreePageHeader.PageSize), $"file grew from {size} to {tree.FileBytes}");
    }

    [Fact]
    public void DamagedPage_IsReported_NeverReturnedAsData()
    {
        var dir = Directory.CreateTempSubdirectory("lsmem-btree-");
        try
        {
            var fs = new PhysicalFileSystem(dir.FullName);
            using (var tree = BPlusTree.Open(fs, Name))
            {
                for (var i = 0; i < 500; i++)
                {
                    tree.Put(Key(0, i), Value(i, 40));
                }
                tree.Commit(0, 0, 0);
            }
            var path = Path.Combine(dir.FullName, Name);
            var bytes = File.ReadAllBytes(path);
            bytes[(2 * BTreePageHeader.PageSize) + 100] ^= 0x40; // a node page
            File.WriteAllBytes(path, bytes);
            using var reopened = BPlusTree.Open(fs, Name);
            Assert.NotEmpty(reopened.Check());
            Assert.Throws<InvalidDataException>(() =>
            {
                for (var i = 0; i < 500; i++)
                {
                    reopened.TryGet(Key(0, i), out _);
                }
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void TornMetaPage_FallsBackToThePreviousCommit()
    {
        var dir = Directory.CreateTempSubdirectory("lsmem-btree-");
        try
        {
            var fs = new PhysicalFileSystem(dir.FullName);
            using (var tree = BPlusTree.Open(fs, Name))
            {
                tree.Put("k"u8, "one"u8);
                tree.Commit(1, 0, 0);
                tree.Put("k"u8, "two"u8);
                tree.Commit(2, 0, 0);
                Assert.Equal(2UL, tree.Meta.TxId);
            }
            var path = Path.Combine(dir.FullName, Name);
            var bytes = File.ReadAllBytes(path);
            bytes[10] ^= 0xFF; // meta page 0 holds transaction 2
            File.WriteAllBytes(path, bytes);
            using var reopened = BPlusTree.Open(fs, Name);
            Assert.Equal(1UL, reopened.Meta.TxId);
            Assert.True(reopened.TryGet("k"u8, out var v));
            Assert.Equal("one"u8.ToArray(), v);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void BadKeys_AreRefused()
    {
        using var tree = BPlusTree.Open(new FaultInjectingFileSystem(), Name);
        Assert.Throws<ArgumentException>(() => tree.Put([], "v"u8));
        Assert.Throws<ArgumentException>(() => tree.Put(new byte[BPlusTree.MaxKey + 1], "v"u8));
    }

    private static bool Run(byte[] program, int seed)
    {
        var rnd = new Random(seed);
        var fs = new FaultInjectingFileSystem { AllowReordering = (seed & 1) == 0 };
        var committed = new SortedDictionary<byte[], byte[]>(Bytes);
        var working = new SortedDictionary<byte[], byte[]>(Bytes);
        SortedDictionary<byte[], byte[]>? committing = null;
        var tree = BPlusTree.Open(fs, Name);
        ulong tx = 0;
        // Crash somewhere in the program's I/O, or not at all.
        fs.CrashAfterOperations = rnd.Next(3) == 0 ? null : rnd.Next(5, 40 + (program.Length * 6));
        try
        {
            foreach (var op in program)
            {
                switch (op % 20)
                {
                    case < 9:
                        var k = Key(rnd.Next(4), rnd.Next(300));
                        var v = Value(rnd.Next(), rnd.Next(10) switch { 0 => rnd.Next(900, 1100), 1 => rnd.Next(3000, 9000), _ => rnd.Next(0, 60) });
                        tree.Put(k, v);
                        working[k] = v;
                        break;
                    case < 13:
                        if (working.Count > 0)
                        {
                            var victim = working.Keys.ElementAt(rnd.Next(working.Count));
                            Assert.True(tree.Delete(victim));
                            working.Remove(victim);
                        }
                        else
                        {
                            Assert.False(tree.Delete("absent"u8));
                        }
                        break;
                    case 13:
                        var s = rnd.Next(4);
                        int a = rnd.Next(300), b = a + rnd.Next(60);
                        var gone = working.Keys.Where(x => Bytes.Compare(x, Key(s, a)) >= 0 && Bytes.Compare(x, Key(s, b)) < 0).ToList();
                        Assert.Equal(gone.Count, tree.DeleteRange(Key(s, a), Key(s, b)));
                        gone.ForEach(x => working.Remove(x));
                        break;
                    case < 17:
                        committing = new SortedDictionary<byte[], byte[]>(working, Bytes);
                        tree.Commit(++tx, 0, 0);
                        committed = committing;
                        committing = null;
                        break;
                    case 17:
                        tree.Rollback();
                        working = new SortedDictionary<byte[], byte[]>(committed, Bytes);
                        break;
                    case 18:
                        tree.Dispose();
                        tree = BPlusTree.Open(fs, Name);
                        working = new SortedDictionary<byte[], byte[]>(committed, Bytes);
                        AssertEqual(committed, tree);
                        break;
                    default:
                        committing = new SortedDictionary<byte[], byte[]>(working, Bytes);
                        tree.Commit(++tx, 0, 0);
                        committed = committing;
                        committing = null;
                        tree.Compact();
                        AssertEqual(committed, tree);
                        break;
                }
            }
            fs.CrashAfterOperations = null;
            tree.Commit(++tx, 0, 0);
            committed = working;
            tree.Dispose();
        }
        catch (SimulatedCrashException)
        {
            tree.Dispose();
            fs.Crash(rnd);
        }

        using var reopened = BPlusTree.Open(fs, Name);
        Assert.Empty(reopened.Check());
        var actual = Dump(reopened);
        var ok = Same(committed, actual) || (committing is not null && Same(committing, actual));
        Assert.True(ok, $"after reopen the tree holds {actual.Count} entries; last commit had {committed.Count}, the one in flight {committing?.Count}");
        // And it still takes writes after the crash.
        reopened.Put("after"u8, "crash"u8);
        reopened.Commit(99, 0, 0);
        Assert.Empty(reopened.Check());
        return true;
    }

    private static byte[] Key(int session, int seq)
    {
        var k = new byte[1 + 8 + 8];
        k[0] = (byte)'M';
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), (ulong)session);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(9), (ulong)seq);
        return k;
    }

    private static byte[] Value(int seed, int length)
    {
        var v = new byte[length];
        new Random(seed).NextBytes(v);
        return v;
    }

    private static List<KeyValuePair<byte[], byte[]>> Dump(BPlusTree tree)
    {
        var all = new List<KeyValuePair<byte[], byte[]>>();
        tree.Scan([], Enumerable.Repeat((byte)0xFF, BPlusTree.MaxKey).ToArray(), (k, v) =>
        {
            all.Add(new(k, v));
            return true;
        });
        return all;
    }

    private static bool Same(SortedDictionary<byte[], byte[]> model, List<KeyValuePair<byte[], byte[]>> actual) =>
        model.Count == actual.Count && model.Zip(actual).All(p => p.First.Key.AsSpan().SequenceEqual(p.Second.Key) && p.First.Value.AsSpan().SequenceEqual(p.Second.Value));

    private static void AssertEqual(SortedDictionary<byte[], byte[]> model, BPlusTree tree)
    {
        Assert.True(Same(model, Dump(tree)), "tree differs from the model");
        Assert.Equal((ulong)model.Count, tree.Count);
        foreach (var (k, v) in model.Take(50))
        {
            Assert.True(tree.TryGet(k, out var got));
            Assert.Equal(v, got);
        }
    }
}
