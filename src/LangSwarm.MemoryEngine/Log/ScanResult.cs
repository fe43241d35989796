using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>Called for each record a scan verified: its file offset, header and bytes (valid during the call only).</summary>
internal delegate void RecordVisitor(long offset, in RecordHeader header, ReadOnlySpan<byte> record);

/// <summary>What a scan found: where valid data ends, how many records, and damaged spans in the middle.</summary>
internal sealed record ScanResult(long ValidEnd, int Records, List<(long Offset, long Length)> Damage);
