using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using K4os.Compression.LZ4;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Storage;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The index checkpoint (<c>index.ckpt</c>): a snapshot of the index that spares a restart from reading the
/// segments. Written whole to a temporary file, fsynced, renamed over the old one, directory fsynced — so a
/// crash leaves the old checkpoint or the new one, never a mix. The segments stay the truth: a missing or
/// damaged checkpoint only makes the next open slower.
/// </summary>
internal static class CheckpointFile
{
    public const string FileName = "index.ckpt";
    public const string TempName = "index.ckpt.tmp";

    /// <summary>A snapshot to write.</summary>
    public sealed record Snapshot(ulong CoveredLsn, ulong NextLsn, ulong NextSession, List<SessionImage> Sessions);

    /// <summary>One session in a snapshot.</summary>
    public sealed record SessionImage(ulong Number, ulong LastLsn, long DeadBytes, int LastStateLength, SessionState State, SegmentExtent[] Segments, List<MessageEntry> Messages, ConversationSummary[] Summaries);

    public static SessionImage Capture(SessionEntry e)
    {
        lock (e.Lock)
        {
            return new SessionImage(e.Number, e.LastLsn, e.DeadBytes, e.LastStateLength, e.State.Clone(), [.. e.Segments], [.. e.Messages], [.. e.Summaries]);
        }
    }

    public static void Write(IFileSystem fs, Snapshot snapshot)
    {
        var body = new ArrayBufferWriter<byte>(1 << 16);
        var w = new PayloadWriter(body);
        w.WriteInt64((long)snapshot.NextLsn);
        w.WriteInt64((long)snapshot.NextSession);
        w.WriteInt32(snapshot.Sessions.Count);
        var scratch = new ArrayBufferWriter<byte>(512);
        foreach (var s in snapshot.Sessions)
        {
            w.WriteInt64((long)s.Number);
            w.WriteInt64((long)s.LastLsn);
            w.WriteInt64(s.DeadBytes);
            w.WriteInt32(s.LastStateLength);
            scratch.Clear();
            StateCodec.Write(scratch, s.State);
            w.WriteBytes(scratch.WrittenSpan);
            w.WriteInt32(s.Segments.Length);
            foreach (var seg in s.Segments)
            {
                w.WriteInt32((int)seg.Segment);
                w.WriteInt64(seg.Length);
            }
            w.WriteInt32(s.Messages.Count);
            w.WriteBytes(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(s.Messages)));
            w.WriteInt32(s.Summaries.Length);
            foreach (var sum in s.Summaries)
            {
                scratch.Clear();
                SummaryCodec.Write(scratch, sum);
                w.WriteBytes(scratch.WrittenSpan);
            }
        }

        var raw = body.WrittenSpan;
        var file = new byte[FileHeader.Size + 8 + LZ4Codec.MaximumOutputSize(raw.Length) + 4];
        new FileHeader(FileKind.Checkpoint, FileHeader.CurrentVersion, snapshot.CoveredLsn, 0).WriteTo(file);
        var stored = LZ4Codec.Encode(raw, file.AsSpan(FileHeader.Size + 8));
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(FileHeader.Size), raw.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(FileHeader.Size + 4), stored);
        var end = FileHeader.Size + 8 + stored;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(end), Crc32C.Compute(file.AsSpan(0, end)));

        using (var f = fs.Open(TempName, create: true))
        {
            f.SetLength(0);
            f.Write(0, file.AsSpan(0, end + 4));
            f.Flush();
        }
        fs.Rename(TempName, FileName);
        fs.SyncDirectory(string.Empty);
    }

    /// <summary>Reads the checkpoint; null when there is none; throws <see cref="InvalidDataException"/> when it is damaged.</summary>
    public static Snapshot? Read(IFileSystem fs)
    {
        if (!fs.FileExists(FileName))
        {
            return null;
        }
        byte[] data;
        using (var f = fs.Open(FileName, create: false))
        {
            var len = f.Length;
            if (len > int.MaxValue - 64)
            {
                throw new InvalidDataException("Checkpoint larger than 2 GiB.");
            }
            data = new byte[len];
            if (f.Read(0, data) != len)
            {
                throw new InvalidDataException("Checkpoint shorter than its length.");
            }
        }
        var status = FileHeader.TryRead(data, FileKind.Checkpoint, out var header);
        if (status == FileHeaderStatus.NewerVersion)
        {
            throw new StoreVersionException($"The index checkpoint is format version {header.Version}; this build reads up to {FileHeader.CurrentVersion}.");
        }
        if (status != FileHeaderStatus.Ok || data.Length < FileHeader.Size + 12)
        {
            throw new InvalidDataException($"Checkpoint header is {status}.");
        }
        var rawLen = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(FileHeader.Size));
        var stored = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(FileHeader.Size + 4));
        var end = FileHeader.Size + 8 + (long)stored;
        // LZ4 expands at most ~255:1, so the stored size bounds what the body may claim: a crafted rawLen
        // must not size a large allocation from a tiny file.
        if (stored < 0 || rawLen < 0 || end + 4 != data.Length || rawLen > 1 << 30 || rawLen > (255L * stored) + 64)
        {
            throw new InvalidDataException("Checkpoint lengths do not match the file.");
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)end)) != Crc32C.Compute(data.AsSpan(0, (int)end)))
        {
            throw new InvalidDataException("Checkpoint checksum fails.");
        }
        var raw = new byte[rawLen];
        if (LZ4Codec.Decode(data.AsSpan(FileHeader.Size + 8, stored), raw) != rawLen)
        {
            throw new InvalidDataException("Checkpoint body does not decompress.");
        }

        var r = new PayloadReader(raw);
        var nextLsn = (ulong)r.ReadInt64();
        var nextSession = (ulong)r.ReadInt64();
        var count = r.ReadInt32();
        var sessions = new List<SessionImage>(Math.Max(0, Math.Min(count, 1 << 20)));
        for (var i = 0; i < count; i++)
        {
            var number = (ulong)r.ReadInt64();
            var lastLsn = (ulong)r.ReadInt64();
            var dead = r.ReadInt64();
            var lastState = r.ReadInt32();
            var state = StateCodec.Read(r.ReadBytes());
            var segs = new SegmentExtent[Bound(r.ReadInt32(), r.Remaining / 12)];
            for (var j = 0; j < segs.Length; j++)
            {
                segs[j] = new SegmentExtent((uint)r.ReadInt32(), r.ReadInt64());
                if (segs[j].Length < FileHeader.Size)
                {
                    throw new InvalidDataException($"Checkpoint segment extent of {segs[j].Length} bytes is shorter than a file header.");
                }
            }
            var msgCount = r.ReadInt32();
            var msgBytes = r.ReadBytes();
            if (msgBytes.Length != (long)msgCount * MessageEntry.Size)
            {
                throw new InvalidDataException("Checkpoint message table has the wrong size.");
            }
            // Straight into the list the index keeps: one copy of the table, no per-entry work.
            var messages = new List<MessageEntry>(msgCount);
            CollectionsMarshal.SetCount(messages, msgCount);
            msgBytes.CopyTo(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(messages)));
            foreach (var m in messages)
            {
                // The reads trust these to address a record inside a segment.
                if (m.Offset < FileHeader.Size || m.Length < RecordHeader.Size || m.Length > RecordHeader.Size + RecordHeader.MaxPayload
                    || !PayloadReader.IsValidTicks(m.TimeTicks))
                {
                    throw new InvalidDataException($"Checkpoint message entry {m.Sequence} is out of range.");
                }
            }
            var sums = new ConversationSummary[Bound(r.ReadInt32(), r.Remaining)];
            for (var j = 0; j < sums.Length; j++)
            {
                sums[j] = SummaryCodec.Read(r.ReadBytes(), state.Metadata.SessionId);
            }
            sessions.Add(new SessionImage(number, lastLsn, dead, lastState, state, segs, messages, sums));
        }
        return new Snapshot(header.Owner, nextLsn, nextSession, sessions);
    }

    private static int Bound(int n, int max) =>
        n < 0 || n > max ? throw new InvalidDataException($"Checkpoint count {n} exceeds what remains.") : n;
}

/// <summary>The store was written by a newer format version than this build reads.</summary>
public sealed class StoreVersionException : StorageCorruptionException
{
    /// <summary>Creates the exception.</summary>
    public StoreVersionException(string message)
        : base(message)
    {
    }
}
