using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Compaction;

/// <summary>
/// Packs small, idle sessions together (FORMAT.md §10): each session's live records (<see cref="LiveRecords"/>, in
/// the cold form: a packed session is at rest) become one group of a new pack, an opening record and then its records; the pack is written whole under a
/// temporary name, fsynced and renamed into place; then each session switches to its group unless it moved on
/// meanwhile (<see cref="Relocation"/>; a group no session took is owed an erasure). The checkpoint that follows
/// is the commit point, as for any compaction.
/// </summary>
internal sealed class SessionPacker(RecordFiles files, SessionIndex index, long packMaxBytes) : IDisposable
{
    private readonly List<Pending> _pending = [];
    private PackBuilder? _builder;

    private sealed record Pending(SessionEntry Entry, LiveRecords Live, long Offset, long Length, List<MessageEntry> Messages, int StateLength);

    /// <summary>Groups gathered into the pack being written.</summary>
    public int Count => _pending.Count;

    /// <summary>True when <paramref name="bytes"/> more would take the pack being written past its size.</summary>
    public bool WouldOverflow(long bytes) => _builder is { } b && _pending.Count > 0 && b.Length + bytes > packMaxBytes;

    /// <summary>Gathers a session and writes its group into the pack being written; false when there was nothing to take.</summary>
    public bool Add(SessionEntry entry)
    {
        if (LiveRecords.Gather(entry, files, index.Cipher, coldForm: true, withState: false) is not { } live)
        {
            return false;
        }
        var opening = live.GroupOpening(entry.Number);
        var builder = _builder ??= files.Packs.Begin(index.Packs.Reserve());
        var location = PackFiles.Location(builder.Pack);
        var start = builder.Append(opening);
        var messages = new List<MessageEntry>();
        // The opening record is the group's state record (the one a later state makes dead).
        var stateLength = opening.Length;
        foreach (var (_, bytes, h) in live.Keep)
        {
            var at = builder.Append(bytes);
            if (h.Type == RecordType.Message)
            {
                messages.Add(new MessageEntry(h.Sequence, h.TimeTicks, at, bytes.Length, h.Tokens, location, h.Role, (byte)(h.Flags & RecordFlags.HasCalls), 0));
            }
        }
        _pending.Add(new Pending(entry, live, start, builder.Length - start, messages, stateLength));
        return true;
    }

    /// <summary>
    /// Makes the pack durable and in place, then switches its sessions; the caller holds the checkpoint lock, so
    /// no checkpoint sees the pack before its sessions. Returns how many switched.
    /// </summary>
    public int Finish(List<(ulong Session, uint Segment)> superseded)
    {
        if (_builder is not { } builder)
        {
            return 0;
        }
        _builder = null;
        var pending = _pending.ToArray();
        _pending.Clear();
        using (builder)
        {
            builder.Finish();
        }
        index.Packs.Register(builder.Pack, builder.Length, filling: true);
        var switched = 0;
        try
        {
            foreach (var p in pending)
            {
                var group = new PackGroup(builder.Pack, p.Offset, p.Length, (uint)(p.Live.LastSegment + 1));
                if (Relocation.TrySwitch(index, p.Entry, p.Live, [], group, p.Messages, p.StateLength, superseded))
                {
                    switched++;
                }
                else
                {
                    index.Packs.Abandon(builder.Pack, p.Offset, p.Length);
                }
            }
        }
        finally
        {
            index.Packs.Filled(builder.Pack);
        }
        return switched;
    }

    /// <summary>Drops a pack not finished (a vacuum stopped by a failure): its temporary file goes.</summary>
    public void Dispose()
    {
        _builder?.Dispose();
        _builder = null;
        _pending.Clear();
    }
}
