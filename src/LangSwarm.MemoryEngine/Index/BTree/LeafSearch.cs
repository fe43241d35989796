using System.Buffers.Binary;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index.BTree;

/// <summary>
/// Finds one key in a leaf page's bytes without parsing the page into a <see cref="Node"/>: a point lookup of a
/// leaf not in the node cache (a session loaded on first use, thousands of them in an unclean open) then costs
/// a walk over the page and one array for the value, instead of an array per key and value and a cache entry
/// that pushes out the branches every lookup needs. The walk checks what <see cref="Node.Decode"/> checks for
/// the entries it passes.
/// </summary>
internal static class LeafSearch
{
    /// <summary>
    /// Looks for <paramref name="key"/> in the leaf <paramref name="page"/> (its header <paramref name="h"/>
    /// already read and checked); false when the leaf does not hold it.
    /// </summary>
    /// <exception cref="InvalidDataException">An entry before the key, or the key's own, is malformed.</exception>
    public static bool TryFind(ReadOnlySpan<byte> page, in BTreePageHeader h, ReadOnlySpan<byte> key, uint pageCount, out LeafValue value)
    {
        value = default;
        var b = page[BTreePageHeader.Size..BTreePageHeader.PageSize];
        Span<byte> current = stackalloc byte[BPlusTree.MaxKey];
        var currentLength = 0;
        var at = 0;
        for (var i = 0; i < h.Count; i++)
        {
            var shared = (int)Node.ReadVarint(b, ref at, h);
            var suffix = (int)Node.ReadVarint(b, ref at, h);
            var field = Node.ReadVarint(b, ref at, h);
            if (shared > currentLength || suffix > BPlusTree.MaxKey)
            {
                throw Node.Bad(h, "key prefix longer than the previous key");
            }
            Node.CheckKeyLength(shared + suffix, h);
            Node.Need(b, at, suffix, h);
            // The shared prefix is already in place: the previous key's first bytes.
            b.Slice(at, suffix).CopyTo(current[shared..]);
            currentLength = shared + suffix;
            at += suffix;
            var order = current[..currentLength].SequenceCompareTo(key);
            if (order > 0)
            {
                return false; // keys ascend: it would have come before this one
            }
            if (field == 1)
            {
                Node.Need(b, at, 8, h);
                if (order == 0)
                {
                    var first = BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
                    var length = BinaryPrimitives.ReadInt32LittleEndian(b[(at + 4)..]);
                    if (first < 2 || first >= pageCount || length <= BPlusTree.MaxInline || length > BPlusTree.MaxValue)
                    {
                        throw Node.Bad(h, "overflow reference out of range");
                    }
                    value = new LeafValue(null, first, length);
                    return true;
                }
                at += 8;
            }
            else
            {
                var inline = (int)(field >> 1);
                if ((field & 1) != 0 || inline > BPlusTree.MaxInline)
                {
                    throw Node.Bad(h, $"inline value field {field}");
                }
                Node.Need(b, at, inline, h);
                if (order == 0)
                {
                    value = new LeafValue(b.Slice(at, inline).ToArray(), 0, inline);
                    return true;
                }
                at += inline;
            }
        }
        return false;
    }
}
