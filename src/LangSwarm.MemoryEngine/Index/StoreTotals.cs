using System.Buffers.Binary;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// Store-wide counters (sessions, statuses, messages, summaries, bytes): what one session adds to them, and
/// their sum. The index file keeps the sum of what it holds (key <c>Z</c>, FORMAT.md §6.3), so a store's
/// statistics never visit every session: the index adds what its sessions in memory changed since.
/// </summary>
internal readonly record struct StoreTotals(long Sessions, long Active, long Archived, long Messages, long Summaries, long DeadBytes, long Segments, long SegmentBytes, long Cold)
{
    private const byte Version = 1;

    /// <summary>Bytes of the encoded value: a version byte and nine i64.</summary>
    public const int EncodedSize = 1 + (9 * 8);

    public static readonly StoreTotals Zero = default;

    /// <summary>What a session adds now (caller holds the entry's lock).</summary>
    public static StoreTotals Of(SessionEntry e)
    {
        long bytes = 0;
        foreach (var s in e.Segments)
        {
            bytes += s.Length;
        }
        var status = e.State.Metadata.Status;
        return new StoreTotals(1, status == SessionStatus.Active ? 1 : 0, status == SessionStatus.Archived ? 1 : 0, e.MessageCount, e.SummaryCount, e.DeadBytes, e.Segments.Count, bytes, e.Cold ? 1 : 0);
    }

    public static StoreTotals operator +(StoreTotals a, StoreTotals b) => new(
        a.Sessions + b.Sessions, a.Active + b.Active, a.Archived + b.Archived, a.Messages + b.Messages, a.Summaries + b.Summaries,
        a.DeadBytes + b.DeadBytes, a.Segments + b.Segments, a.SegmentBytes + b.SegmentBytes, a.Cold + b.Cold);

    public static StoreTotals operator -(StoreTotals a, StoreTotals b) => new(
        a.Sessions - b.Sessions, a.Active - b.Active, a.Archived - b.Archived, a.Messages - b.Messages, a.Summaries - b.Summaries,
        a.DeadBytes - b.DeadBytes, a.Segments - b.Segments, a.SegmentBytes - b.SegmentBytes, a.Cold - b.Cold);

    /// <summary>The value of the index file's totals key.</summary>
    public byte[] Encode()
    {
        var v = new byte[EncodedSize];
        v[0] = Version;
        var at = 1;
        foreach (var x in (ReadOnlySpan<long>)[Sessions, Active, Archived, Messages, Summaries, DeadBytes, Segments, SegmentBytes, Cold])
        {
            BinaryPrimitives.WriteInt64LittleEndian(v.AsSpan(at), x);
            at += 8;
        }
        return v;
    }

    /// <summary>Reads the totals key's value; throws <see cref="InvalidDataException"/> when it is malformed.</summary>
    public static StoreTotals Decode(ReadOnlySpan<byte> v)
    {
        if (v.Length != EncodedSize || v[0] != Version)
        {
            throw new InvalidDataException($"Index totals of {v.Length} bytes, version {(v.Length > 0 ? v[0] : 0)} (expected {EncodedSize} bytes, version {Version}).");
        }
        Span<long> x = stackalloc long[9];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = BinaryPrimitives.ReadInt64LittleEndian(v[(1 + (8 * i))..]);
            if (x[i] < 0)
            {
                throw new InvalidDataException("Index totals hold a negative count.");
            }
        }
        return new StoreTotals(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8]);
    }
}
