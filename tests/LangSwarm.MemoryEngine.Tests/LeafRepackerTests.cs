using System.Buffers.Binary;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// The commit's refill of the dirty leaves (<see cref="LeafRepacker"/>): a transaction that grows or inserts
/// across a range leaves its pages full, not half full after a split each, and the tree holds the same entries.
/// </summary>
public sealed class LeafRepackerTests
{
    private const string Name = "index.btree";

    private static readonly IComparer<byte[]> Bytes = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    [Fact]
    public void GrowingEveryValueOfARange_LeavesItsPagesFull()
    {
        var fs = new FaultInjectingFileSystem();
        var model = new SortedDictionary<byte[], byte[]>(Bytes);
        using var tree = BPlusTree.Open(fs, Name);
        for (var i = 0; i < 20_000; i++)
        {
            Put(tree, model, Key((ulong)i), new byte[17]);
        }
        tree.Commit(0, 0, 0);
        Assert.True(Fill(tree) > 0.95, $"in-order inserts filled leaves to {Fill(tree):P1}");

        // As a vacuum moving every message entry into a pack: each value grows by a byte or two, in key order.
        for (var i = 0; i < 20_000; i++)
        {
            Put(tree, model, Key((ulong)i), new byte[18 + (i % 2)]);
        }
        tree.Commit(0, 0, 0);
        Assert.True(Fill(tree) > 0.95, $"grown values left leaves {Fill(tree):P1} full");
        Assert.Empty(tree.Check());
        AssertEqual(model, tree);
    }

    [Fact]
    public void InsertsInRandomOrder_InOneTransaction_LeaveItsPagesFull()
    {
        var fs = new FaultInjectingFileSystem();
        var model = new SortedDictionary<byte[], byte[]>(Bytes);
        using var tree = BPlusTree.Open(fs, Name);
        var rng = new Random(5);
        for (var i = 0; i < 20_000; i++)
        {
            Put(tree, model, Key((ulong)rng.NextInt64()), new byte[rng.Next(0, 30)]);
        }
        tree.Commit(0, 0, 0);
        Assert.True(Fill(tree) > 0.95, $"random inserts in one transaction filled leaves to {Fill(tree):P1}");
        Assert.Empty(tree.Check());
        AssertEqual(model, tree);
    }

    [Fact]
    public void CleanPagesAreNotRewritten_AndAFewChangesStayLocal()
    {
        var fs = new FaultInjectingFileSystem();
        var model = new SortedDictionary<byte[], byte[]>(Bytes);
        using var tree = BPlusTree.Open(fs, Name);
        for (var i = 0; i < 20_000; i++)
        {
            Put(tree, model, Key((ulong)i * 2), new byte[17]);
        }
        tree.Commit(0, 0, 0);
        var before = Leaves(tree).ToDictionary(n => n.Page, n => n.Keys.Count);

        // Inserts into two far apart pages touch those pages (and their splits) only.
        for (var i = 0; i < 40; i++)
        {
            Put(tree, model, Key(101 + ((ulong)i * 2)), new byte[17]);
            Put(tree, model, Key(30_001 + ((ulong)i * 2)), new byte[17]);
        }
        tree.Commit(0, 0, 0);
        var after = Leaves(tree);
        var unchanged = after.Count(n => before.TryGetValue(n.Page, out var count) && count == n.Keys.Count && n.Keys.Count > 0);
        Assert.True(unchanged >= before.Count - 2, $"{before.Count - unchanged} of {before.Count} leaves were rewritten");
        Assert.Empty(tree.Check());
        AssertEqual(model, tree);
    }

    private static void Put(BPlusTree tree, SortedDictionary<byte[], byte[]> model, byte[] key, byte[] value)
    {
        tree.Put(key, value);
        model[key] = value;
    }

    private static byte[] Key(ulong n)
    {
        var k = new byte[17];
        k[0] = (byte)'M';
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), n / 5);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(9), n % 5);
        return k;
    }

    /// <summary>Bytes the committed leaves use over the bytes their pages hold, the last leaf aside.</summary>
    private static double Fill(BPlusTree tree)
    {
        var leaves = Leaves(tree);
        leaves.RemoveAt(leaves.Count - 1);
        return leaves.Sum(n => (double)n.EncodedSize()) / (leaves.Count * (double)BTreePageHeader.Capacity);
    }

    private static List<Node> Leaves(BPlusTree tree)
    {
        var leaves = new List<Node>();
        void Visit(uint page)
        {
            var node = tree.Pages.ReadNode(page, tree.Meta.PageCount);
            if (node.IsLeaf)
            {
                leaves.Add(node);
                return;
            }
            foreach (var child in node.Children)
            {
                Visit(child);
            }
        }
        Visit(tree.Meta.Root);
        return leaves;
    }

    private static void AssertEqual(SortedDictionary<byte[], byte[]> model, BPlusTree tree)
    {
        var all = new List<KeyValuePair<byte[], byte[]>>();
        tree.Scan([], Enumerable.Repeat((byte)0xFF, BPlusTree.MaxKey).ToArray(), (k, v) =>
        {
            all.Add(new(k, v));
            return true;
        });
        Assert.Equal(model.Count, all.Count);
        Assert.True(model.Zip(all).All(p => p.First.Key.AsSpan().SequenceEqual(p.Second.Key) && p.First.Value.AsSpan().SequenceEqual(p.Second.Value)), "tree differs from the model");
        Assert.Equal((ulong)model.Count, tree.Count);
    }
}
