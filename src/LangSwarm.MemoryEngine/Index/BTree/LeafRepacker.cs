using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index.BTree;

/// <summary>
/// Before a commit writes the dirty tree, refills each run of adjacent dirty leaves under one branch into as few
/// pages as hold its entries, every page but the last full. A split leaves two half pages; when a transaction
/// goes on to grow or insert into every entry of a range (a vacuum moving a store's message entries into packs,
/// a checkpoint appending sessions whose keys land between other keys), the halves stay half full forever,
/// since no later write merges them. The pages of a run are written by this commit anyway, so refilling them
/// costs no write and reads no page; clean pages are left as they are.
/// </summary>
internal static class LeafRepacker
{
    /// <summary>Refills the dirty leaves under <paramref name="node"/>; returns the number of pages saved.</summary>
    public static int Repack(Node node, int capacity)
    {
        if (node.IsLeaf)
        {
            return 0;
        }
        var saved = 0;
        var leaves = false;
        for (var i = 0; i < node.DirtyChildren.Count; i++)
        {
            if (node.DirtyChildren[i] is { } child)
            {
                if (child.IsLeaf)
                {
                    leaves = true;
                }
                else
                {
                    saved += Repack(child, capacity);
                }
            }
        }
        if (!leaves)
        {
            return saved;
        }
        for (var i = 0; i < node.DirtyChildren.Count;)
        {
            if (node.DirtyChildren[i] is null)
            {
                i++;
                continue;
            }
            var end = i + 1;
            while (end < node.DirtyChildren.Count && node.DirtyChildren[end] is not null)
            {
                end++;
            }
            var removed = end - i >= 2 ? RepackRun(node, i, end, capacity) : 0;
            saved += removed;
            i = end - removed;
        }
        return saved;
    }

    /// <summary>
    /// Refills children [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="branch"/>; returns how
    /// many fewer children it has (0 when refilling saves no page, or its separators would not fit the branch).
    /// </summary>
    private static int RepackRun(Node branch, int from, int to, int capacity)
    {
        var pages = Fill(branch, from, to, capacity);
        if (pages.Count >= to - from)
        {
            return 0;
        }
        // The new separators are the first keys of the new pages: every key of the run lies between the
        // separators around it, so those stay. Keys[j − 1] separates child j − 1 from child j.
        var oldKeys = branch.Keys.GetRange(from, to - from - 1);
        var oldChildren = branch.Children.GetRange(from, to - from);
        var oldDirty = branch.DirtyChildren.GetRange(from, to - from);
        branch.Keys.RemoveRange(from, to - from - 1);
        branch.Children.RemoveRange(from, to - from);
        branch.DirtyChildren.RemoveRange(from, to - from);
        for (var p = 0; p < pages.Count; p++)
        {
            branch.Children.Insert(from + p, 0);
            branch.DirtyChildren.Insert(from + p, pages[p]);
            if (p > 0)
            {
                branch.Keys.Insert(from + p - 1, pages[p].Keys[0]);
            }
        }
        branch.InvalidateSize();
        if (branch.EncodedSize() <= capacity)
        {
            return to - from - pages.Count;
        }
        // Longer separators than the ones replaced overfill the branch: keep the run as it was.
        branch.Keys.RemoveRange(from, pages.Count - 1);
        branch.Children.RemoveRange(from, pages.Count);
        branch.DirtyChildren.RemoveRange(from, pages.Count);
        branch.Keys.InsertRange(from, oldKeys);
        branch.Children.InsertRange(from, oldChildren);
        branch.DirtyChildren.InsertRange(from, oldDirty);
        branch.InvalidateSize();
        return 0;
    }

    /// <summary>The entries of the run's leaves, in order, in pages filled one after the other.</summary>
    private static List<Node> Fill(Node branch, int from, int to, int capacity)
    {
        var pages = new List<Node>();
        var page = Node.NewLeaf();
        var used = 0;
        for (var c = from; c < to; c++)
        {
            var leaf = branch.DirtyChildren[c]!;
            for (var i = 0; i < leaf.Keys.Count; i++)
            {
                var key = leaf.Keys[i];
                var value = leaf.Values[i];
                var size = Node.LeafEntrySize(page.Keys.Count == 0 ? null : page.Keys[^1], key, value);
                if (page.Keys.Count > 0 && used + size > capacity)
                {
                    pages.Add(page);
                    page = Node.NewLeaf();
                    size = Node.LeafEntrySize(null, key, value);
                    used = 0;
                }
                page.Keys.Add(key);
                page.Values.Add(value);
                used += size;
            }
        }
        if (page.Keys.Count > 0)
        {
            pages.Add(page);
        }
        return pages;
    }
}
