using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Index.BTree;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>The move of an index file from key layout 1 to the current one (FORMAT.md §6.3), inside the caller's transaction.</summary>
internal static class IndexLayoutUpgrade
{
    /// <summary>
    /// Files written before the layout marker have user keys in the old order and no status or role keys: the
    /// user and status keys are rewritten from the session records and the role keys from the message entries,
    /// in the caller's transaction (which commits with the file's LSNs as they are), so a crash leaves the old
    /// file or the upgraded one.
    /// </summary>
    public static void Rewrite(BPlusTree tree, List<SessionEntry> sessions)
    {
        var (from, to) = IndexKeys.Space(IndexKeys.User);
        tree.DeleteRange(from, to);
        (from, to) = IndexKeys.Space(IndexKeys.Status);
        tree.DeleteRange(from, to);
        (from, to) = IndexKeys.Space(IndexKeys.Role);
        tree.DeleteRange(from, to);
        foreach (var e in sessions)
        {
            var roles = new List<(long Sequence, MessageRole Role)>();
            tree.ScanTransaction(IndexKeys.RangeStart(IndexKeys.Message, e.Number), IndexKeys.RangeEnd(IndexKeys.Message, e.Number), (k, v) =>
            {
                var m = SessionRecord.DecodeMessage(IndexKeys.SequenceOf(k), v);
                roles.Add((m.Sequence, (MessageRole)m.Role));
                return true;
            });
            foreach (var (sequence, role) in roles)
            {
                tree.Put(IndexKeys.ForRole(e.Number, role, sequence), []);
            }
            var saved = e.Saved;
            tree.Put(IndexKeys.ForStatus(saved.Status, saved.UpdatedTicks, e.Number), []);
            if (saved.User is { } user)
            {
                tree.Put(IndexKeys.ForUser(user, saved.UpdatedTicks, e.Number), []);
            }
        }
    }
}
