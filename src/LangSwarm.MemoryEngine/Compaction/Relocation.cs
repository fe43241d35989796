using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Index;

namespace LangSwarm.MemoryEngine.Compaction;

/// <summary>
/// Step 3 of a compaction: the switch of one session to its new records, under the session's lock only, unless it
/// took a write since the gathering or has one in flight (a write reserves its place, <see cref="SessionEntry.Appending"/>,
/// under that lock before it takes an LSN, so none can land in the old files after the switch, and other
/// sessions' writes never wait for it).
/// </summary>
internal static class Relocation
{
    /// <summary>
    /// Switches <paramref name="entry"/> to <paramref name="segments"/> and <paramref name="pack"/>; false (nothing
    /// changed) when it moved on. The old segments go to <paramref name="superseded"/>, to delete once a
    /// checkpoint commits the switch; an old pack group is released to the pack table (erased after that commit).
    /// </summary>
    public static bool TrySwitch(SessionIndex index, SessionEntry entry, LiveRecords live, List<SegmentExtent> segments, PackGroup? pack, List<MessageEntry> messages, int stateLength, List<(ulong Session, uint Segment)> superseded)
    {
        // Membership outside the entry's lock (listings take the index lock, then entries'); a delete after
        // this check moves LastLsn, which the check under the lock sees.
        var filed = index.TryGet(entry.Number, out _);
        lock (entry.Lock)
        {
            if (!filed || entry.Appending > 0 || entry.LastLsn != live.SnapshotLsn)
            {
                return false;
            }
            foreach (var s in live.OldSegments)
            {
                superseded.Add((entry.Number, s.Segment));
            }
            if (entry.Pack is { } old)
            {
                index.Packs.Leave(old);
            }
            if (pack is { } group)
            {
                index.Packs.Join(group);
            }
            entry.Pack = pack;
            entry.Segments.Clear();
            entry.Segments.AddRange(segments);
            var loaded = entry.LoadMessages();
            loaded.Clear();
            loaded.AddRange(messages);
            // Counters follow what is live, by construction.
            long tokens = 0;
            foreach (var m in messages)
            {
                tokens += m.Tokens;
            }
            entry.State.LiveMessages = messages.Count;
            entry.State.LiveTokens = tokens;
            entry.DeadBytes = 0;
            entry.LastStateLength = stateLength;
            entry.Cold = live.Archived;
            entry.Changed(relocated: true);
        }
        return true;
    }
}
