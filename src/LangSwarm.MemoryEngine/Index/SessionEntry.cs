using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>Everything the index knows of one session. Mutable fields are guarded by <see cref="Lock"/>.</summary>
internal sealed class SessionEntry(ulong number, SessionState state, ISessionContentSource? source = null)
{
    private List<MessageEntry>? _messages = source is null ? [] : null;
    private List<ConversationSummary>? _summaries = source is null ? [] : null;

    // Where unloaded content comes back from: the index file, for a session loaded from it or committed to it.
    private ISessionContentSource? _source = source;

    // Message entries appended while the session's entries were not loaded, ascending, until a commit of the
    // index file holds them: a write to a large session costs its new entries, not a load of all of them.
    private List<MessageEntry>? _tail;

    public ulong Number { get; } = number;

    public object Lock { get; } = new();

    public SessionState State { get; set; } = state;

    /// <summary>
    /// Live messages, ascending by sequence. For a session opened from the index file the first call reads them
    /// from it (disk I/O, under the entry's lock): most sessions of a large store are never touched between open
    /// and close. Later calls return the loaded list.
    /// </summary>
    public List<MessageEntry> LoadMessages()
    {
        if (_messages is null)
        {
            lock (Lock)
            {
                if (_messages is null)
                {
                    var loaded = _source!.LoadMessages(this);
                    if (_tail is { } tail)
                    {
                        // The file may hold some of them already (committed, not yet dropped from the tail).
                        var last = loaded.Count > 0 ? loaded[^1].Sequence : long.MinValue;
                        foreach (var m in tail)
                        {
                            if (m.Sequence > last)
                            {
                                loaded.Add(m);
                            }
                        }
                        _tail = null;
                    }
                    _messages = loaded;
                }
                Touch();
            }
        }
        return _messages;
    }

    /// <summary>Appends a message entry, to the loaded list or, when it is not loaded, to the tail (caller holds <see cref="Lock"/>).</summary>
    public void AppendMessage(in MessageEntry m)
    {
        if (_messages is { } messages)
        {
            messages.Add(m);
        }
        else
        {
            (_tail ??= []).Add(m);
        }
    }

    /// <summary>The entries appended above <paramref name="sequence"/> while the list was not loaded (caller holds <see cref="Lock"/>).</summary>
    public List<MessageEntry> TailAbove(long sequence)
    {
        var above = new List<MessageEntry>();
        foreach (var m in _tail ?? [])
        {
            if (m.Sequence > sequence)
            {
                above.Add(m);
            }
        }
        return above;
    }

    /// <summary>A commit of the index file holds the entries up to <paramref name="sequence"/>: the tail lets go of them (caller holds <see cref="Lock"/>).</summary>
    public void TailCommitted(long sequence)
    {
        if (_tail is { } tail)
        {
            tail.RemoveAll(m => m.Sequence <= sequence);
            if (tail.Count == 0)
            {
                _tail = null;
            }
        }
    }

    /// <summary>Summaries in the order written; the first call reads them like <see cref="LoadMessages"/>.</summary>
    public List<ConversationSummary> LoadSummaries()
    {
        if (_summaries is null)
        {
            lock (Lock)
            {
                _summaries ??= _source!.LoadSummaries(this);
            }
        }
        return _summaries;
    }

    /// <summary>Live messages, without loading them.</summary>
    public int MessageCount => _messages?.Count ?? Saved.Messages + CountAbove(Saved.LastSequence);

    private int CountAbove(long sequence)
    {
        var n = 0;
        if (_tail is { } tail)
        {
            for (var i = tail.Count - 1; i >= 0 && tail[i].Sequence > sequence; i--)
            {
                n++;
            }
        }
        return n;
    }

    /// <summary>Summaries, without loading them.</summary>
    public int SummaryCount => _summaries?.Count ?? Saved.Summaries;

    /// <summary>When the session was last read or written (<see cref="Environment.TickCount64"/>), to unload the coldest first.</summary>
    public long LastUsed { get; private set; }

    /// <summary>Marks the session as used now (once per read or applied record, not per entry visited).</summary>
    public void Touch() => LastUsed = Environment.TickCount64;

    /// <summary>True when the message entries are in memory.</summary>
    public bool MessagesLoaded => _messages is not null;

    /// <summary>True when the summaries are in memory.</summary>
    public bool SummariesLoaded => _summaries is not null;

    /// <summary>
    /// A commit of the index file holds the session: from now on its content can be let go and loaded again from
    /// <paramref name="source"/>, like that of a session opened from the file (a session created by this process
    /// would otherwise keep every message entry while anything holds it). Caller holds <see cref="Lock"/>.
    /// </summary>
    public void AdoptSource(ISessionContentSource source) => _source ??= source;

    /// <summary>
    /// Lets go of the loaded message entries the index file holds — those up to <see cref="Saved"/>'s last
    /// sequence — keeping the ones appended since as the tail, and of the summaries when the file holds them
    /// unchanged. False when it cannot: content not from the file, or changed other than by appends since the
    /// save (an eviction or a relocation: the next checkpoint saves it first). The caller holds <see cref="Lock"/>
    /// and knows <see cref="Saved"/> is what the committed file holds (no checkpoint between capture and commit).
    /// </summary>
    public bool Unload()
    {
        if (_source is null || !Saved.InFile || Relocated)
        {
            return false;
        }
        if (_messages is { } messages)
        {
            var above = LowerBound(messages, Saved.LastSequence + 1);
            if (above != Saved.Messages)
            {
                return false; // entries the file holds were evicted since: it must save that first
            }
            // A loaded list takes every append, so no tail exists beside it.
            _tail = above < messages.Count ? messages.GetRange(above, messages.Count - above) : null;
            _messages = null;
        }
        if (Version == Saved.Version)
        {
            _summaries = null;
        }
        return true;
    }

    /// <summary>
    /// Puts content rebuilt from the segments in place of what the index file could not give (caller holds
    /// <see cref="Lock"/>); the next checkpoint rewrites the session's entries in the file.
    /// </summary>
    public void ReplaceContent(List<MessageEntry> messages, List<ConversationSummary> summaries)
    {
        _messages = messages;
        _summaries = summaries;
        Changed(relocated: true);
    }

    /// <summary>
    /// A segment file of the session is gone: its messages leave the index (counters follow), and the segment
    /// restarts empty at <paramref name="emptyLength"/> so the session stays writable (caller holds
    /// <see cref="Lock"/> and recreates the file). Returns how many live messages were lost.
    /// </summary>
    public int ForgetSegment(uint segment, long emptyLength)
    {
        var i = Segments.FindIndex(x => x.Segment == segment);
        if (i < 0)
        {
            return 0;
        }
        var lost = 0;
        var s = State;
        LoadMessages().RemoveAll(m =>
        {
            if (m.Segment != segment)
            {
                return false;
            }
            lost++;
            s.LiveMessages--;
            s.LiveTokens -= m.Tokens;
            return true;
        });
        Segments[i] = new SegmentExtent(segment, emptyLength);
        Changed(relocated: true);
        return lost;
    }

    /// <summary>Bumped on every change (under <see cref="Lock"/>): a checkpoint saves entries whose version moved.</summary>
    public long Version { get; private set; } = 1;

    /// <summary>What the index file holds of this session (for incremental checkpoints).</summary>
    public SavedImage Saved { get; set; } = SavedImage.None;

    /// <summary>Marks a change; <paramref name="relocated"/> when messages changed other than by appends or oldest-first eviction.</summary>
    public void Changed(bool relocated = false)
    {
        Version++;
        if (relocated)
        {
            Relocated = true;
        }
        if (!Queued)
        {
            Queued = true;
            Owner?.MarkDirty(this);
        }
    }

    /// <summary>
    /// True once the index dropped the session (a delete): no write may start on it again (guarded by
    /// <see cref="Lock"/>). A session created again under the id gets a new entry.
    /// </summary>
    public bool Removed { get; set; }

    /// <summary>Writes of this session between their LSN and their index update (guarded by <see cref="Lock"/>).</summary>
    public int Appending { get; set; }

    /// <summary>The index the entry is filed in (its dirty list is what a checkpoint captures).</summary>
    public SessionIndex? Owner { get; set; }

    /// <summary>True while the entry sits in its index's dirty list (guarded by <see cref="Lock"/>).</summary>
    public bool Queued { get; set; }

    /// <summary>Message entries changed in place (compaction, repair, an eviction out of order) since the last save.</summary>
    public bool Relocated { get; set; }

    /// <summary>The session's segments in order, with their lengths; the last takes appends.</summary>
    public List<SegmentExtent> Segments { get; } = [];

    /// <summary>Where its compacted records lie in a pack, when it was packed (FORMAT.md §5.3); null otherwise.</summary>
    public PackGroup? Pack { get; set; }

    /// <summary>
    /// Where a record without a place of its own (a delete) is applied: the end of its newest segment, or the
    /// start of its pack group. Caller holds the lock.
    /// </summary>
    public (uint Location, long Offset) Tail => Segments.Count > 0
        ? (Segments[^1].Segment, Segments[^1].Length)
        : (Log.PackFiles.Location(Pack!.Value.Pack), Pack.Value.Offset);

    /// <summary>The number its next own segment takes: after its newest, or the pack group's next one.</summary>
    public uint NextOwnSegment => Segments.Count > 0 ? Segments[^1].Segment + 1 : Pack?.NextSegment ?? 0;

    /// <summary>LSN of the last record applied (recovery skips records at or below it).</summary>
    public ulong LastLsn { get; set; }

    /// <summary>Bytes of records no longer needed (evicted messages, superseded states): what vacuum reclaims.</summary>
    public long DeadBytes { get; set; }

    /// <summary>Where the session is listed now, as of the index's last settle (guarded by the index's lock).</summary>
    public Listing Listed { get; set; }

    /// <summary>Where the committed index file lists the session, or null (guarded by the index's lock).</summary>
    public Listing? Committed { get; set; }

    /// <summary>
    /// The highest message sequence the committed index file holds for the session (0: none): its role keys
    /// answer for sequences up to here, memory for those above. Set by the index after a commit.
    /// </summary>
    public long CommittedLastSequence
    {
        get => Volatile.Read(ref _committedLastSequence);
        set => Volatile.Write(ref _committedLastSequence, value);
    }

    private long _committedLastSequence;

    /// <summary>
    /// Records what the committed index file now holds of the session (<paramref name="image"/>; null: nothing,
    /// a new or recreated file). Caller holds the index's lock.
    /// </summary>
    public void SetCommitted(SavedImage? image)
    {
        Committed = image?.Listing;
        CommittedLastSequence = image?.LastSequence ?? 0;
        CommittedVersion = image?.Version ?? 0;
        CommittedTotals = image?.Counted ?? StoreTotals.Zero;
    }

    /// <summary>The entry version the committed index file holds (0: none); equal to <see cref="Version"/> when memory may let the entry go (guarded by the index's lock).</summary>
    public long CommittedVersion { get; set; }

    /// <summary>What the committed index file counts for the session in its totals (guarded by the index's lock).</summary>
    public StoreTotals CommittedTotals { get; set; }

    /// <summary>Bytes of the session record last read or written: the metadata's share of <see cref="EstimatedBytes"/>.</summary>
    public int RecordBytes { get; set; }

    /// <summary>About how many bytes the entry keeps in memory (caller holds <see cref="Lock"/>): what the cache's budget counts.</summary>
    public long EstimatedBytes
    {
        get
        {
            long bytes = 400 + (2L * RecordBytes) + (24L * Segments.Count);
            if (_messages is { } messages)
            {
                bytes += 64 + (56L * messages.Capacity);
            }
            if (_tail is { } tail)
            {
                bytes += 64 + (56L * tail.Capacity);
            }
            if (_summaries is { } summaries)
            {
                foreach (var s in summaries)
                {
                    bytes += 200 + (2L * s.SummaryText.Length);
                }
            }
            return bytes;
        }
    }

    /// <summary>True while the entry is in the index's overlay: listed other than the file says (guarded by the index's lock).</summary>
    public bool InOverlay { get; set; }

    /// <summary>True while the entry waits in the index's queue of entries to re-file (guarded by the index's lock).</summary>
    public bool RefileQueued { get; set; }

    /// <summary>True once compaction rewrote the session in its cold (archived, LZ4 HC) form.</summary>
    public bool Cold { get; set; }

    /// <summary>Byte position of the last session-state record (it becomes dead when a newer one is written).</summary>
    public int LastStateLength { get; set; }

    /// <summary>Index of the first message at or above <paramref name="sequence"/>.</summary>
    public int LowerBound(long sequence)
    {
        Touch();
        return LowerBound(LoadMessages(), sequence);
    }

    private static int LowerBound(List<MessageEntry> messages, long sequence)
    {
        int lo = 0, hi = messages.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (messages[mid].Sequence < sequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}
