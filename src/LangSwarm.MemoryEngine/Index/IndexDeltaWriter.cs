using System.Buffers;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Index.BTree;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// Puts a checkpoint's <see cref="IndexDelta"/> into the index file's open transaction (FORMAT.md §6.3-6.4):
/// removed sessions lose every key, saved ones get their record, listing keys moved, message entries extended
/// or rewritten and new summaries. The caller commits (or rolls back) the transaction.
/// </summary>
internal static class IndexDeltaWriter
{
    private static readonly byte[] Empty = [];

    private static readonly MessageRole[] Roles = Enum.GetValues<MessageRole>();

    public static void Write(BPlusTree tree, IndexDelta delta)
    {
        foreach (var (number, id, saved) in delta.Removed)
        {
            if (!saved.InFile)
            {
                continue;
            }
            tree.Delete(IndexKeys.ForSession(number));
            tree.Delete(IndexKeys.ForSessionId(id));
            tree.Delete(IndexKeys.ForOwing(number));
            Unfile(tree, saved, number);
            tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Message, number), IndexKeys.RangeEnd(IndexKeys.Message, number));
            tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Role, number), IndexKeys.RangeEnd(IndexKeys.Role, number));
            tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Summary, number), IndexKeys.RangeEnd(IndexKeys.Summary, number));
        }
        var scratch = new ArrayBufferWriter<byte>(256);
        foreach (var s in delta.Saves)
        {
            Write(tree, s, scratch);
        }
        foreach (var (pack, image) in delta.Packs.Saves)
        {
            if (image is null)
            {
                tree.Delete(IndexKeys.ForPack(pack));
                continue;
            }
            scratch.Clear();
            image.Write(scratch);
            tree.Put(IndexKeys.ForPack(pack), scratch.WrittenSpan);
        }
    }

    private static void Write(BPlusTree tree, SessionSave s, ArrayBufferWriter<byte> scratch)
    {
        var n = s.Number;
        tree.Put(IndexKeys.ForSession(n), s.Record);
        if (!s.Before.InFile)
        {
            tree.Put(IndexKeys.ForSessionId(s.SessionId), IndexKeys.ForSession(n).AsSpan(1));
        }
        if (s.After.Owing && (!s.Before.InFile || !s.Before.Owing))
        {
            tree.Put(IndexKeys.ForOwing(n), Empty);
        }
        else if (!s.After.Owing && s.Before.InFile && s.Before.Owing)
        {
            tree.Delete(IndexKeys.ForOwing(n));
        }
        if (!s.Before.InFile || s.Before.Listing != s.After.Listing)
        {
            if (s.Before.InFile)
            {
                Unfile(tree, s.Before, n);
            }
            File(tree, s.After, n);
        }

        if (s.RewriteMessages)
        {
            // Compaction keeps the sequences and moves the records: overwrite in place, and delete only the
            // keys that are gone (no delete-then-reinsert churn of the whole range).
            var keep = new HashSet<long>(s.Messages.Count);
            foreach (var m in s.Messages)
            {
                keep.Add(m.Sequence);
            }
            var gone = new List<(byte[] Key, MessageRole Role)>();
            tree.ScanTransaction(IndexKeys.RangeStart(IndexKeys.Message, n), IndexKeys.RangeEnd(IndexKeys.Message, n), (k, v) =>
            {
                var sequence = IndexKeys.SequenceOf(k);
                if (!keep.Contains(sequence))
                {
                    gone.Add((k, (MessageRole)SessionRecord.DecodeMessage(sequence, v).Role));
                }
                return true;
            });
            foreach (var (k, role) in gone)
            {
                tree.Delete(k);
                tree.Delete(IndexKeys.ForRole(n, role, IndexKeys.SequenceOf(k)));
            }
        }
        else if (s.CutBelow != long.MinValue)
        {
            tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Message, n), IndexKeys.ForMessage(n, s.CutBelow == long.MaxValue ? long.MaxValue : s.CutBelow));
            foreach (var role in Roles)
            {
                var (from, to) = IndexKeys.RoleRange(n, role, 0, s.CutBelow);
                tree.DeleteRange(from, to);
            }
        }
        foreach (var m in s.Messages)
        {
            tree.Put(IndexKeys.ForMessage(n, m.Sequence), SessionRecord.EncodeMessage(m));
            // Layout 5: no time in the role key, the message entry holds it (FORMAT.md §6.3).
            tree.Put(IndexKeys.ForRole(n, (MessageRole)m.Role, m.Sequence), Empty);
        }

        if (s.RewriteSummaries)
        {
            tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Summary, n), IndexKeys.RangeEnd(IndexKeys.Summary, n));
        }
        var position = s.RewriteSummaries ? 0 : s.Before.Summaries;
        foreach (var summary in s.Summaries)
        {
            scratch.Clear();
            SummaryCodec.Write(scratch, summary);
            tree.Put(IndexKeys.ForSummary(n, position++), scratch.WrittenSpan);
        }
    }

    private static void File(BPlusTree tree, SavedImage saved, ulong number)
    {
        tree.Put(IndexKeys.ForTime(saved.UpdatedTicks, number), Empty);
        tree.Put(IndexKeys.ForStatus(saved.Status, saved.UpdatedTicks, number), Empty);
        if (saved.User is { } user)
        {
            tree.Put(IndexKeys.ForUser(user, saved.UpdatedTicks, number), Empty);
        }
    }

    private static void Unfile(BPlusTree tree, SavedImage saved, ulong number)
    {
        tree.Delete(IndexKeys.ForTime(saved.UpdatedTicks, number));
        tree.Delete(IndexKeys.ForStatus(saved.Status, saved.UpdatedTicks, number));
        if (saved.User is { } user)
        {
            tree.Delete(IndexKeys.ForUser(user, saved.UpdatedTicks, number));
        }
    }
}
