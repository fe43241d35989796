using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// Applies one record to the index. The live write path and recovery both go through here, so the index
/// that a restart rebuilds is, by construction, the index the running store had.
/// </summary>
internal static class RecordApplier
{
    /// <summary>
    /// Applies a verified record found at <paramref name="offset"/> of <paramref name="segment"/>; null on
    /// success, else why it does not fit. Only non-message records have their payload decoded.
    /// </summary>
    public static string? Apply(SessionIndex index, in RecordHeader h, ReadOnlySpan<byte> record, uint segment, long offset)
    {
        if (index.Cipher is { } cipher && cipher.IsForgedPlain(h))
        {
            // Its checksum holds, but no writer with the key wrote it: refused like a record that fails its seal.
            return $"plain {h.Type} record at LSN {h.Lsn}, where every record is sealed (from LSN {cipher.SealedSince})";
        }
        if (h.Type == RecordType.Message)
        {
            return ApplyDecoded(index, h, default, segment, offset, h.TotalLength);
        }
        byte[] buffer = [];
        try
        {
            var n = RecordCodec.DecodePayload(record, h, index.Cipher, out buffer);
            return ApplyDecoded(index, h, buffer.AsSpan(0, n), segment, offset, h.TotalLength);
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException or FormatException or ArgumentException)
        {
            // Checksummed but undecodable (a writer bug, or a payload no reader of this build accepts): damage
            // to report and skip, never an exception that stops a recovery.
            return $"{h.Type} record does not decode: {ex.Message}";
        }
        finally
        {
            if (buffer.Length > 0)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// For a session's creation record (a state record of a number the index does not hold): the entry that
    /// already holds its id under another number, else null. Undecodable records give null (Apply reports them).
    /// </summary>
    public static SessionEntry? IdHeldByAnother(SessionIndex index, in RecordHeader h, ReadOnlySpan<byte> record) =>
        IdHeldByAnother(index, h, record, out _);

    /// <summary>
    /// <see cref="IdHeldByAnother(SessionIndex, in RecordHeader, ReadOnlySpan{byte})"/>, also giving the state it
    /// decoded (null when it decoded none), which <see cref="Apply(SessionIndex, in RecordHeader, ReadOnlySpan{byte}, uint, long, SessionState?)"/>
    /// takes instead of decoding the record again: a recovery meets thousands of creations.
    /// </summary>
    public static SessionEntry? IdHeldByAnother(SessionIndex index, in RecordHeader h, ReadOnlySpan<byte> record, out SessionState? decoded)
    {
        decoded = null;
        if (h.Type != RecordType.SessionState || index.TryGet(h.Session, out _))
        {
            return null;
        }
        byte[] buffer = [];
        try
        {
            var n = RecordCodec.DecodePayload(record, h, index.Cipher, out buffer);
            decoded = StateCodec.Read(buffer.AsSpan(0, n));
            return index.TryGet(decoded.Metadata.SessionId, out var other) && other.Number != h.Session ? other : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException or FormatException or ArgumentException)
        {
            return null;
        }
        finally
        {
            if (buffer.Length > 0)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// <see cref="Apply(SessionIndex, in RecordHeader, ReadOnlySpan{byte}, uint, long)"/> of a state record whose
    /// payload the caller already decoded into <paramref name="decoded"/> (taken over: the index keeps it); null
    /// decodes as usual.
    /// </summary>
    public static string? Apply(SessionIndex index, in RecordHeader h, ReadOnlySpan<byte> record, uint segment, long offset, SessionState? decoded) =>
        decoded is not null && h.Type == RecordType.SessionState
            ? ApplyDecoded(index, h, default, segment, offset, h.TotalLength, decoded)
            : Apply(index, h, record, segment, offset);

    private static string? ApplyDecoded(SessionIndex index, in RecordHeader h, ReadOnlySpan<byte> payload, uint segment, long offset, int length, SessionState? decoded = null)
    {
        // Decode before anything changes, so a payload that does not decode leaves the index as it was.
        SessionState? decodedState = decoded ?? (h.Type == RecordType.SessionState ? StateCodec.Read(payload) : null);
        if (!index.TryGet(h.Session, out var entry))
        {
            if (decodedState is null)
            {
                return $"{h.Type} record for unknown session {h.Session}";
            }
            // The index owns the counters: a session starts with none, whatever the record says.
            decodedState.LiveMessages = 0;
            decodedState.LiveTokens = 0;
            entry = new SessionEntry(h.Session, decodedState) { LastLsn = h.Lsn, LastStateLength = length };
            if (!PackFiles.IsPack(segment))
            {
                entry.Segments.Add(new SegmentExtent(segment, offset + length));
            }
            return index.TryAdd(entry) ? null : $"session id '{decodedState.Metadata.SessionId}' appears under two numbers";
        }
        var summary = h.Type == RecordType.Summary ? SummaryCodec.Read(payload, entry.State.Metadata.SessionId) : null;
        var evicted = h.Type == RecordType.Evict ? new HashSet<long>(EvictCodec.Read(payload)) : null;

        var refile = false;
        var relocated = false;
        lock (entry.Lock)
        {
            switch (h.Type)
            {
                case RecordType.Message:
                    entry.AppendMessage(new MessageEntry(h.Sequence, h.TimeTicks, offset, length, h.Tokens, segment, h.Role, (byte)(h.Flags & RecordFlags.HasCalls), 0));
                    var s = entry.State;
                    s.LastSequence = Math.Max(s.LastSequence, h.Sequence);
                    s.LiveMessages++;
                    s.LiveTokens += h.Tokens;
                    if (h.WrittenTicks > s.Metadata.UpdatedAt.UtcTicks)
                    {
                        s.Metadata.UpdatedAt = new DateTimeOffset(h.WrittenTicks, TimeSpan.Zero);
                        refile = true;
                    }
                    break;
                case RecordType.SessionState:
                    entry.DeadBytes += entry.LastStateLength;
                    entry.LastStateLength = length;
                    // Metadata comes from the record; the counters stay the index's own (one owner: they
                    // count exactly the message entries applied and not evicted, whatever the writer thought).
                    decodedState!.LastSequence = Math.Max(decodedState.LastSequence, entry.State.LastSequence);
                    decodedState.LiveMessages = entry.State.LiveMessages;
                    decodedState.LiveTokens = entry.State.LiveTokens;
                    entry.State = decodedState;
                    refile = true;
                    break;
                case RecordType.Summary:
                    entry.LoadSummaries().Add(summary!);
                    break;
                case RecordType.Evict:
                    var counters = entry.State;
                    entry.LoadMessages().RemoveAll(m =>
                    {
                        if (!evicted!.Contains(m.Sequence))
                        {
                            return false;
                        }
                        entry.DeadBytes += m.Length;
                        counters.LiveMessages--;
                        counters.LiveTokens -= m.Tokens;
                        return true;
                    });
                    entry.DeadBytes += length;
                    // Oldest-first eviction is saved as a cut of the range's head; anything else rewrites it.
                    if (entry.LoadMessages().Count > 0)
                    {
                        foreach (var seq in evicted!)
                        {
                            if (seq > entry.LoadMessages()[0].Sequence)
                            {
                                relocated = true;
                                break;
                            }
                        }
                    }
                    break;
                case RecordType.SessionDelete:
                    break;
            }
            entry.LastLsn = h.Lsn;
            entry.Changed(relocated);
            entry.Touch();
            var last = entry.Segments.Count - 1;
            if (PackFiles.IsPack(segment))
            {
                // A pack's records were placed by a compaction: the session's own segments do not move.
            }
            else if (last >= 0 && entry.Segments[last].Segment == segment)
            {
                entry.Segments[last] = new SegmentExtent(segment, Math.Max(entry.Segments[last].Length, offset + length));
            }
            else
            {
                entry.Segments.Add(new SegmentExtent(segment, offset + length));
            }
        }
        if (h.Type == RecordType.SessionDelete)
        {
            index.Remove(entry);
        }
        else if (refile)
        {
            index.Refile(entry);
        }
        return null;
    }
}
