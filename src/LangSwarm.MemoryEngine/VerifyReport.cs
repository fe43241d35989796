namespace LangSwarm.MemoryEngine;

/// <summary>Result of a full verification: every record read and checked, the index compared with a rebuild from the segments and packs.</summary>
/// <param name="Segments">Segment files read.</param>
/// <param name="Records">Records whose checksum held.</param>
/// <param name="Bytes">Bytes read.</param>
/// <param name="Problems">Everything found wrong (damaged records, index disagreements); empty when the store is sound.</param>
public sealed record VerifyReport(int Segments, long Records, long Bytes, IReadOnlyList<string> Problems)
{
    /// <summary>Pack files read (FORMAT.md §5.3); not counted in <see cref="Segments"/>.</summary>
    public int Packs { get; init; }

    /// <summary>True when nothing is wrong.</summary>
    public bool Ok => Problems.Count == 0;
}
