namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// Reads a session's records wherever they lie: in its own segments, or in a pack (a location with
/// <see cref="PackFiles.PackBit"/> set). The read path, compaction and the rebuild of a session go through it.
/// </summary>
internal sealed class RecordFiles(SegmentFiles segments, PackFiles packs)
{
    public SegmentFiles Segments { get; } = segments;

    public PackFiles Packs { get; } = packs;

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/> of a location; returns bytes read.</summary>
    public int Read(ulong session, uint location, long offset, Span<byte> buffer) => PackFiles.IsPack(location)
        ? Packs.Read(PackFiles.NumberOf(location), offset, buffer)
        : Segments.Read(session, location, offset, buffer);

    /// <summary>The file of a location, for reports.</summary>
    public static string PathOf(ulong session, uint location) => PackFiles.IsPack(location)
        ? PackFiles.PathFor(PackFiles.NumberOf(location))
        : SegmentFiles.PathFor(session, location);
}
