using System.Buffers;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>A session to write to the index file: what changed since its last save.</summary>
internal sealed class SessionSave
{
    public required ulong Number { get; init; }

    public required string SessionId { get; init; }

    /// <summary>What the file held before (keys to move, ranges to extend).</summary>
    public required SavedImage Before { get; init; }

    /// <summary>What the file holds after.</summary>
    public required SavedImage After { get; init; }

    /// <summary>The encoded session record (<see cref="SessionRecord"/>).</summary>
    public required byte[] Record { get; init; }

    /// <summary>Replace every message entry (otherwise: cut below <see cref="CutBelow"/>, then add <see cref="Messages"/>).</summary>
    public bool RewriteMessages { get; init; }

    /// <summary>Entries below this sequence were evicted (long.MinValue: none).</summary>
    public long CutBelow { get; init; } = long.MinValue;

    public List<MessageEntry> Messages { get; init; } = [];

    public bool RewriteSummaries { get; init; }

    /// <summary>Summaries to write, from position <c>Before.Summaries</c> on (or from 0 when rewriting).</summary>
    public List<ConversationSummary> Summaries { get; init; } = [];
}

/// <summary>
/// The changes a checkpoint writes to the index file: sessions removed, and sessions whose version moved since
/// their last save, each reduced to its delta (new message entries, an evicted head, new summaries). Captured
/// under the engine's exclusive gate, so its cost follows what changed, not the size of the store.
/// </summary>
internal sealed class IndexDelta
{
    public List<(ulong Number, string SessionId, SavedImage Saved)> Removed { get; } = [];

    public List<SessionSave> Saves { get; } = [];

    /// <summary>The packs' keys to save and what their commit makes due.</summary>
    public PackDelta Packs { get; private set; } = PackDelta.Empty;

    /// <summary>
    /// This delta in parts of about <paramref name="maxEntries"/> index entries each, the sessions in number
    /// order (so a part's keys cluster in few pages) and the removed ones in the first part; itself when it is
    /// small, or when it changes packs (a pack's keys and the sessions that name it commit together).
    /// </summary>
    public List<IndexDelta> Split(int maxEntries)
    {
        if (Packs.Saves.Count > 0 || Weight(0, Saves.Count) <= maxEntries)
        {
            return [this];
        }
        Saves.Sort((a, b) => a.Number.CompareTo(b.Number));
        var parts = new List<IndexDelta> { new() };
        parts[0].Removed.AddRange(Removed);
        var weight = Removed.Count;
        foreach (var save in Saves)
        {
            var w = Weight(save);
            if (weight > 0 && weight + w > maxEntries)
            {
                parts.Add(new IndexDelta());
                weight = 0;
            }
            parts[^1].Saves.Add(save);
            weight += w;
        }
        return parts;
    }

    private int Weight(int from, int to)
    {
        var w = Removed.Count;
        for (var i = from; i < to; i++)
        {
            w += Weight(Saves[i]);
        }
        return w;
    }

    // The keys a save puts: its record and listing keys, and an entry and a role key per message.
    private static int Weight(SessionSave s) => 4 + (2 * s.Messages.Count) + s.Summaries.Count;

    /// <summary>
    /// Captures the sessions changed since the last capture (the index's dirty list), or with
    /// <paramref name="all"/> every session (a rebuilt file).
    /// </summary>
    public static IndexDelta Capture(SessionIndex index, bool all = false)
    {
        var delta = new IndexDelta();
        foreach (var e in index.DrainRemoved())
        {
            delta.Removed.Add((e.Number, e.State.Metadata.SessionId, e.Saved));
        }
        var record = new ArrayBufferWriter<byte>(512);
        var dirty = index.DrainDirty();
        foreach (var e in all ? index.Resident() : dirty)
        {
            // Membership first, outside the entry's lock: listings take the index lock, then an entry's.
            var filed = index.TryGet(e.Number, out var live) && ReferenceEquals(live, e);
            lock (e.Lock)
            {
                e.Queued = false;
                if (filed && e.Version != e.Saved.Version)
                {
                    delta.Saves.Add(CaptureOne(e, record));
                }
            }
        }
        delta.Packs = index.Packs.Capture(all);
        if (all)
        {
            foreach (var e in dirty)
            {
                lock (e.Lock)
                {
                    e.Queued = false;
                }
            }
        }
        return delta;
    }

    /// <summary>The delta of one entry; marks it saved. Caller holds the entry's lock.</summary>
    private static SessionSave CaptureOne(SessionEntry e, ArrayBufferWriter<byte> record)
    {
        var before = e.Saved;
        var m = e.State.Metadata;
        var lastSequence = before.LastSequence;
        var rewriteMessages = false;
        var cut = long.MinValue;
        List<MessageEntry> messages = [];
        if (e.MessagesLoaded)
        {
            var all = e.LoadMessages();
            if (e.Relocated || !before.InFile)
            {
                rewriteMessages = true;
                messages = [.. all];
            }
            else
            {
                cut = all.Count > 0 ? all[0].Sequence : long.MaxValue;
                var from = e.LowerBound(before.LastSequence + 1);
                messages = all.GetRange(from, all.Count - from);
            }
            if (all.Count > 0)
            {
                lastSequence = Math.Max(lastSequence, all[^1].Sequence);
            }
        }
        else if (before.InFile)
        {
            // Appends to a session whose entries were never loaded: the tail, above what the file holds.
            messages = e.TailAbove(before.LastSequence);
            if (messages.Count > 0)
            {
                lastSequence = Math.Max(lastSequence, messages[^1].Sequence);
            }
        }
        var summaryCount = before.Summaries;
        var rewriteSummaries = false;
        List<ConversationSummary> summaries = [];
        if (e.SummariesLoaded)
        {
            var all = e.LoadSummaries();
            rewriteSummaries = !before.InFile || e.Relocated || all.Count < before.Summaries;
            summaries = rewriteSummaries ? [.. all] : all.GetRange(before.Summaries, all.Count - before.Summaries);
            summaryCount = all.Count;
        }
        record.Clear();
        SessionRecord.Write(record, e, e.MessageCount, summaryCount);
        var counted = StoreTotals.Of(e);
        var after = new SavedImage(e.Version, lastSequence, e.MessageCount, summaryCount, m.UpdatedAt.UtcTicks, m.UserId, m.Status, counted, SavedImage.Owes(e.State));
        e.Saved = after;
        e.RecordBytes = record.WrittenCount;
        e.Relocated = false;
        return new SessionSave
        {
            Number = e.Number,
            SessionId = m.SessionId,
            Before = before,
            After = after,
            Record = record.WrittenSpan.ToArray(),
            RewriteMessages = rewriteMessages,
            CutBelow = cut,
            Messages = messages,
            RewriteSummaries = rewriteSummaries,
            Summaries = summaries,
        };
    }
}
