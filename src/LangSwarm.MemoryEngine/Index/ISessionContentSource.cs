using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>Reads a session's message entries and summaries from the index file on first use.</summary>
internal interface ISessionContentSource
{
    /// <summary>The entry's message entries (called once, under the entry's lock).</summary>
    List<MessageEntry> LoadMessages(SessionEntry entry);

    /// <summary>The entry's summaries (called once, under the entry's lock).</summary>
    List<ConversationSummary> LoadSummaries(SessionEntry entry);

    /// <summary>
    /// The index file could not give a session record (<paramref name="number"/>, 0 when unknown): reports it,
    /// has the next open rebuild the file, and returns the exception to throw to the caller.
    /// </summary>
    Exception RecordDamaged(ulong number, InvalidDataException why);
}
