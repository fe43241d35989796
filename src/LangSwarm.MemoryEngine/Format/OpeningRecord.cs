using System.Buffers;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>
/// The synthetic session-state record (LSN 0, no counters) at the start of a segment that the engine writes
/// outside the commit log: a compaction's rewritten set, and a segment recreated in place of a lost one. A scan
/// from nothing recreates the session from it, and LSN 0 keeps it below every real record of the session.
/// Recovery knows a compaction's uncommitted set by it (FORMAT.md §4.5, §10).
/// </summary>
internal static class OpeningRecord
{
    /// <summary>
    /// A compaction numbers its new set this far past the session's last segment, so that a roll by a concurrent
    /// append never lands on it, and recovery tells its set from anything else (FORMAT.md §8 step 2, §10).
    /// </summary>
    public const uint RewriteSegmentGap = 1024;

    /// <summary>Encodes the opening record of a session.</summary>
    /// <param name="number">The session's internal number.</param>
    /// <param name="state">Its state now.</param>
    /// <param name="keepLastSequence">Keep the state's last sequence (a repaired segment whose messages are gone);
    /// otherwise 0, as the copied messages that follow raise it again.</param>
    /// <param name="cipher">Seals the record (an encrypted store), or null.</param>
    public static byte[] Encode(ulong number, SessionState state, bool keepLastSequence, StoreCipher? cipher)
    {
        var opening = state.Clone();
        opening.LastSequence = keepLastSequence ? state.LastSequence : 0;
        opening.LiveMessages = 0;
        opening.LiveTokens = 0;
        var payload = new ArrayBufferWriter<byte>(256);
        StateCodec.Write(payload, opening);
        var ticks = opening.Metadata.UpdatedAt.UtcTicks;
        var output = new ArrayBufferWriter<byte>(payload.WrittenCount + RecordHeader.Size + 64 + StoreCipher.Overhead);
        RecordCodec.Encode(output, new RecordHeader(RecordType.SessionState, 0, 0, 0, number, 0, opening.LastSequence, ticks, ticks, 0, 0), payload.WrittenSpan, cipher: cipher);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>True when <paramref name="head"/> (a segment's first record header) is an opening record.</summary>
    public static bool Is(ReadOnlySpan<byte> head) =>
        RecordHeader.TryRead(head, out var h, out _) && h.Type == RecordType.SessionState && h.Lsn == 0;
}
