using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// The one loop that rebuilds index state from a segment: stream a region of the file, skip every record its
/// session already holds (at or below its last applied LSN: an older copy), apply the rest. Recovery's segment
/// tails, the rebuild of a session whose index entries are damaged, and verification all run it.
/// </summary>
internal static class SegmentReplayer
{
    /// <summary>Decides whether a verified record is offered to the index at all (false: skip it).</summary>
    public delegate bool Admit(long offset, in RecordHeader header, ReadOnlySpan<byte> record);

    /// <summary>What to do around each record; every member may be null.</summary>
    public sealed class Hooks
    {
        /// <summary>Runs first; false skips the record.</summary>
        public Admit? Admit { get; init; }

        /// <summary>A record the index applied.</summary>
        public Action<long, RecordHeader>? Applied { get; init; }

        /// <summary>A record the index refused, with the reason.</summary>
        public Action<long, RecordHeader, string>? Refused { get; init; }
    }

    /// <summary>
    /// Replays [<paramref name="start"/>, <paramref name="end"/>) of a segment into <paramref name="target"/>.
    /// With <paramref name="resync"/>, damage is skipped to the next valid record (and reported in the result);
    /// without it the first bad record ends the valid data (a torn tail).
    /// </summary>
    public static ScanResult Replay(SegmentFiles files, ulong session, uint segment, long start, long end, SessionIndex target, Hooks hooks, bool resync = false) =>
        Replay((at, buffer) => files.Read(session, segment, at, buffer), segment, start, end, target, hooks, resync);

    /// <summary>
    /// <see cref="Replay(SegmentFiles, ulong, uint, long, long, SessionIndex, Hooks, bool)"/> over any file:
    /// records are applied at <paramref name="location"/> (a segment number, or a pack's location).
    /// </summary>
    public static ScanResult Replay(StreamingRecordScanner.PositionalRead read, uint location, long start, long end, SessionIndex target, Hooks hooks, bool resync = false) =>
        StreamingRecordScanner.Scan(
            read,
            start,
            end,
            (long offset, in RecordHeader h, ReadOnlySpan<byte> record) =>
            {
                if (hooks.Admit is { } admit && !admit(offset, h, record))
                {
                    return;
                }
                if (target.TryGet(h.Session, out var current) && h.Lsn <= current.LastLsn)
                {
                    return; // an older copy of what the session holds
                }
                if (RecordApplier.Apply(target, h, record, location, offset) is { } why)
                {
                    hooks.Refused?.Invoke(offset, h, why);
                    return;
                }
                hooks.Applied?.Invoke(offset, h);
            },
            resync);
}
