using System.Buffers;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// The read path: picks a session's message entries from the index and reads their records from the segments
/// in runs of back-to-back records, re-picking when a compaction moved them meanwhile. A record that fails its
/// checksum or does not decode is reported and skipped, never returned; a segment file gone from under the
/// store is a typed error naming it.
/// </summary>
internal sealed class SessionReader(SessionIndex index, RecordFiles files, RuntimeDamage damage)
{
    /// <summary>Live messages of a session matching <paramref name="query"/>, ascending; only the newest <paramref name="newest"/> when set.</summary>
    public List<Message> ReadMessages(SessionEntry entry, MessageQuery query, int? newest = null) =>
        ReadEntries(entry, Pick(entry, query, newest));

    /// <summary>
    /// The index entries of the live messages matching <paramref name="query"/>, ascending: a role filter from the
    /// index file's role keys where they answer (<see cref="RolePicker"/>), otherwise the query's sequence range,
    /// from memory or, for a session whose entries are not loaded, from the index file (<see cref="RangePicker"/>).
    /// </summary>
    public List<MessageEntry> Pick(SessionEntry entry, MessageQuery query, int? newest = null) =>
        RolePicker.TryPick(entry, index.AttachedFile, query, newest) ?? RangePicker.Pick(entry, index.AttachedFile, query, newest);

    /// <summary>Reads and decodes the records of <paramref name="picked"/>; damaged ones are reported and skipped.</summary>
    public List<Message> ReadEntries(SessionEntry entry, List<MessageEntry> picked)
    {
        var result = new List<Message>(picked.Count);
        var repicks = 0;
        var i = 0;
        while (i < picked.Count)
        {
            // Read runs of records that sit back to back in one segment with a single read.
            var start = i;
            var bytes = (long)picked[i].Length;
            while (i + 1 < picked.Count && picked[i + 1].Segment == picked[i].Segment
                && picked[i + 1].Offset == picked[i].Offset + picked[i].Length && bytes < 1 << 20)
            {
                i++;
                bytes += picked[i].Length;
            }
            var buffer = ArrayPool<byte>.Shared.Rent((int)bytes);
            try
            {
                var first = picked[start];
                int read;
                try
                {
                    read = files.Read(entry.Number, first.Segment, first.Offset, buffer.AsSpan(0, (int)bytes));
                }
                catch (FileNotFoundException)
                {
                    // Decided here, not in exception filters: a filter runs before the frames below it unwind,
                    // while the segment files still hold their lock, and the index's and the entry's locks come
                    // before that one in the lock order (EngineCore).
                    if (!index.TryGet(entry.Number, out _))
                    {
                        throw new SessionNotFoundException(entry.State.Metadata.SessionId);
                    }
                    if (IsCurrentSegment(entry, first.Segment))
                    {
                        // Not moved by a compaction: the file is gone from under the store.
                        throw MissingSegment(entry, first.Segment);
                    }
                    // A compaction moved the session's records after they were picked: pick them again.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = [];
                    var rest = Repick(entry, picked, start);
                    picked.RemoveRange(start, picked.Count - start);
                    picked.AddRange(rest);
                    i = start;
                    if (++repicks > 3)
                    {
                        throw new StorageFailureException($"Session '{entry.State.Metadata.SessionId}' kept moving while it was read.");
                    }
                    continue;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A read that fails (a dying disk, a file made unreadable) is the caller's typed error,
                    // not a raw I/O exception; writes are unaffected and the read can be retried.
                    throw StorageErrors.Wrap(ex, $"Reading session '{entry.State.Metadata.SessionId}' failed");
                }
                for (var k = start; k <= i; k++)
                {
                    var e = picked[k];
                    var at = (int)(e.Offset - first.Offset);
                    var span = at + e.Length <= read ? buffer.AsSpan(at, e.Length) : [];
                    if (TryDecode(span, index.Cipher, out var message))
                    {
                        result.Add(message);
                    }
                    else
                    {
                        damage.Report(new StoreDamage(RecordFiles.PathOf(entry.Number, e.Segment), e.Offset, e.Length, $"message {e.Sequence} of session '{entry.State.Metadata.SessionId}' fails its checksum; skipped"));
                    }
                }
            }
            finally
            {
                if (buffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            i++;
        }
        return result;
    }

    private static bool IsCurrentSegment(SessionEntry entry, uint segment)
    {
        lock (entry.Lock)
        {
            return PackFiles.IsPack(segment)
                ? entry.Pack?.Pack == PackFiles.NumberOf(segment)
                : entry.Segments.Exists(x => x.Segment == segment);
        }
    }

    /// <summary>A segment file gone from under the store: reported, and the typed error naming it.</summary>
    public StorageCorruptionException MissingSegment(SessionEntry entry, uint segment)
    {
        var path = RecordFiles.PathOf(entry.Number, segment);
        var id = entry.State.Metadata.SessionId;
        damage.Report(new StoreDamage(path, 0, 0, $"{(PackFiles.IsPack(segment) ? "pack" : "segment")} file of session '{id}' is missing"), repairAtOpen: true);
        return new StorageCorruptionException($"Segment file '{path}' of session '{id}' is missing; the session can be neither read nor written until the store is reopened, which repairs it (its lost messages leave the index, reported as damage). Other sessions are unaffected.");
    }

    /// <summary>The current index entries of the picked messages from <paramref name="from"/> on (still live ones only).</summary>
    private static List<MessageEntry> Repick(SessionEntry entry, List<MessageEntry> picked, int from)
    {
        var wanted = new HashSet<long>();
        for (var k = from; k < picked.Count; k++)
        {
            wanted.Add(picked[k].Sequence);
        }
        var fresh = new List<MessageEntry>(wanted.Count);
        lock (entry.Lock)
        {
            foreach (var m in entry.LoadMessages())
            {
                if (wanted.Contains(m.Sequence))
                {
                    fresh.Add(m);
                }
            }
        }
        return fresh;
    }

    private static bool TryDecode(ReadOnlySpan<byte> record, StoreCipher? cipher, out Message message)
    {
        message = null!;
        if (record.IsEmpty || !RecordCodec.Verify(record, out var h) || h.Type != RecordType.Message)
        {
            return false;
        }
        byte[] payload = [];
        try
        {
            // A sealed record that does not authenticate is damage like a failed checksum; one sealed with a key
            // the store was not given is the caller's typed error (EncryptionKeyException), not damage.
            var n = RecordCodec.DecodePayload(record, h, cipher, out payload);
            message = MessageCodec.Read(h, payload.AsSpan(0, n));
            return true;
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException or InvalidCastException)
        {
            return false;
        }
        finally
        {
            if (payload.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(payload);
            }
        }
    }
}
