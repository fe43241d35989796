using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index.BTree;

/// <summary>Splits an overfull node in two: the left half stays in the node, the right half and the key that separates them go up.</summary>
internal static class NodeSplitter
{
    /// <summary>
    /// Splits an overfull leaf just after the entry inserted at <paramref name="inserted"/> when that leaves
    /// the left page holding everything up to it: keys that arrive in order (a session's messages, whether
    /// its range ends the tree or sits between other sessions') then fill pages completely. Otherwise, at the
    /// point nearest the byte midpoint at which both halves fit in <paramref name="capacity"/> bytes.
    /// </summary>
    public static (byte[] Up, Node Right) SplitLeaf(Node node, int inserted, int capacity)
    {
        var n = node.Keys.Count;
        // sizes[i]: entry i after entry i − 1; alone[i]: entry i first in its page (no shared prefix).
        var sizes = new int[n];
        var total = 0;
        for (var i = 0; i < n; i++)
        {
            sizes[i] = Node.LeafEntrySize(i == 0 ? null : node.Keys[i - 1], node.Keys[i], node.Values[i]);
            total += sizes[i];
        }
        int Left(int at)
        {
            var sum = 0;
            for (var i = 0; i < at; i++)
            {
                sum += sizes[i];
            }
            return sum;
        }
        int Right(int at, int left) => total - left - sizes[at] + Node.LeafEntrySize(null, node.Keys[at], node.Values[at]);
        bool Fits(int at)
        {
            var left = Left(at);
            return at is > 0 && at < n && left <= capacity && Right(at, left) <= capacity;
        }

        var split = inserted + 1 < n && 2 * inserted >= n && Fits(inserted + 1) ? inserted + 1
            : inserted == n - 1 && Fits(n - 1) ? n - 1
            : -1;
        if (split < 0)
        {
            // One always exists: an entry takes at most 2,006 bytes and the node at most one entry more than a page.
            long bestDistance = long.MaxValue;
            var left = 0;
            for (var i = 1; i < n; i++)
            {
                left += sizes[i - 1];
                var right = Right(i, left);
                var distance = Math.Abs((long)left - right);
                if (left <= capacity && right <= capacity && distance < bestDistance)
                {
                    split = i;
                    bestDistance = distance;
                }
            }
            split = split > 0 ? split : Math.Max(1, n / 2);
        }
        var rightNode = Node.NewLeaf();
        rightNode.Keys.AddRange(node.Keys.GetRange(split, n - split));
        rightNode.Values.AddRange(node.Values.GetRange(split, n - split));
        node.Keys.RemoveRange(split, n - split);
        node.Values.RemoveRange(split, n - split);
        node.InvalidateSize();
        return (rightNode.Keys[0], rightNode);
    }

    /// <summary>Splits an overfull branch around the key at its middle byte; that key moves up.</summary>
    public static (byte[] Up, Node Right) SplitBranch(Node node)
    {
        var half = node.EncodedSize() / 2;
        var size = 4;
        var m = 0;
        for (; m < node.Keys.Count - 1; m++)
        {
            size += 2 + node.Keys[m].Length + 4;
            if (size >= half)
            {
                break;
            }
        }
        var up = node.Keys[m];
        var right = Node.NewBranch();
        right.Keys.AddRange(node.Keys.GetRange(m + 1, node.Keys.Count - m - 1));
        right.Children.AddRange(node.Children.GetRange(m + 1, node.Children.Count - m - 1));
        right.DirtyChildren.AddRange(node.DirtyChildren.GetRange(m + 1, node.DirtyChildren.Count - m - 1));
        node.Keys.RemoveRange(m, node.Keys.Count - m);
        node.InvalidateSize();
        node.Children.RemoveRange(m + 1, node.Children.Count - m - 1);
        node.DirtyChildren.RemoveRange(m + 1, node.DirtyChildren.Count - m - 1);
        return (up, right);
    }
}
