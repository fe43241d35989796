using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// The oracle the streaming scanner is checked against: the simplest possible scan of bytes already in memory.
/// A bad record followed by good ones is damage in the middle (reported, skipped); a bad record with nothing
/// valid after it is a torn tail (cut there).
/// </summary>
internal static class ReferenceRecordScanner
{
    /// <summary>
    /// Scans <paramref name="data"/>, whose first byte is at file offset <paramref name="baseOffset"/>. With
    /// <paramref name="stopAtDamage"/>, the first bad record ends the valid data (recovery of unsynced tails,
    /// where later records may exist only because the disk reordered writes); otherwise scanning resumes at the
    /// next valid record and the bad span is reported (verification).
    /// </summary>
    public static ScanResult Scan(ReadOnlySpan<byte> data, long baseOffset, RecordVisitor visit, bool stopAtDamage = false)
    {
        var damage = new List<(long Offset, long Length)>();
        var pos = 0;
        var records = 0;
        while (pos < data.Length)
        {
            if (RecordCodec.Verify(data[pos..], out var header))
            {
                visit(baseOffset + pos, header, data.Slice(pos, header.TotalLength));
                records++;
                pos += header.TotalLength;
                continue;
            }
            var next = stopAtDamage ? -1 : FindNextValid(data, pos + 1);
            if (next < 0)
            {
                return new ScanResult(baseOffset + pos, records, damage);
            }
            damage.Add((baseOffset + pos, next - pos));
            pos = next;
        }
        return new ScanResult(baseOffset + pos, records, damage);
    }

    private static int FindNextValid(ReadOnlySpan<byte> data, int from)
    {
        for (var p = from; p + RecordHeader.Size <= data.Length; p++)
        {
            // Cheap test first: the magic at offset 4.
            if (data[p + 4] == (byte)(RecordHeader.Magic & 0xFF) && data[p + 5] == (byte)(RecordHeader.Magic >> 8)
                && RecordCodec.Verify(data[p..], out _))
            {
                return p;
            }
        }
        return -1;
    }
}

