using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Turns each kind of write into the records of one batch (payload encoded, header filled). The commit path
/// stamps LSNs and seals them; what a write means for the index is <c>RecordApplier</c>'s.
/// </summary>
internal static class WriteRecords
{
    /// <summary>One Message record per message, unsealed (the commit seals them once their LSNs are reserved).</summary>
    /// <exception cref="InvalidMessageException">A message encodes to more than one record can hold.</exception>
    public static void AddMessages(RecordBatch batch, ulong session, IReadOnlyList<Message> messages, long writtenTicks)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            MessageCodec.Write(batch.Payload, messages[i]);
            if (batch.Payload.WrittenCount > RecordHeader.MaxPayload)
            {
                throw new InvalidMessageException($"Message encodes to {batch.Payload.WrittenCount} bytes; the largest record is {RecordHeader.MaxPayload} bytes.");
            }
            batch.AddFromPayload(MessageCodec.Header(session, messages[i], writtenTicks));
        }
    }

    /// <summary>A Summary record.</summary>
    public static void AddSummary(RecordBatch batch, ulong session, ConversationSummary summary, long lastSequence, long nowTicks)
    {
        SummaryCodec.Write(batch.Payload, summary);
        batch.AddFromPayload(new RecordHeader(RecordType.Summary, 0, 0, 0, session, 0, lastSequence, summary.CreatedAt.UtcTicks, nowTicks, 0, 0));
    }

    /// <summary>An Evict record of <paramref name="sequences"/>, written in ascending order.</summary>
    public static void AddEvict(RecordBatch batch, ulong session, IReadOnlyList<long> sequences, long lastSequence, long nowTicks)
    {
        var sorted = new long[sequences.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = sequences[i];
        }
        Array.Sort(sorted);
        EvictCodec.Write(batch.Payload, sorted);
        batch.AddFromPayload(new RecordHeader(RecordType.Evict, 0, 0, 0, session, 0, lastSequence, nowTicks, nowTicks, 0, 0));
    }

    /// <summary>A SessionState record (metadata and marks; the index keeps its own counters).</summary>
    public static void AddState(RecordBatch batch, ulong session, SessionState state)
    {
        StateCodec.Write(batch.Payload, state);
        var at = state.Metadata.UpdatedAt.UtcTicks;
        batch.AddFromPayload(new RecordHeader(RecordType.SessionState, 0, 0, 0, session, 0, state.LastSequence, at, at, 0, 0));
    }

    /// <summary>
    /// A SessionDelete record (no payload); its sequence field is the session's last sequence, as for every
    /// record that is not a Message (FORMAT.md §4.1). Builds before this one wrote 0 there; readers ignore it.
    /// </summary>
    public static void AddDelete(RecordBatch batch, ulong session, long lastSequence, long nowTicks) =>
        batch.AddFromPayload(new RecordHeader(RecordType.SessionDelete, 0, 0, 0, session, 0, lastSequence, nowTicks, nowTicks, 0, 0));
}
