namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The index's reads of its attached file: a session's number by id, a session record as a new entry whose
/// content loads on first use, and passes over a key space. A damaged page or record is reported through the
/// content source (which has the next open rebuild the file) and thrown as the typed error it returns.
/// </summary>
internal sealed class SessionFileReader(IndexFile file, ISessionContentSource source)
{
    public IndexFile File { get; } = file;

    /// <summary>The number the file files <paramref name="sessionId"/> under.</summary>
    public bool TryFind(string sessionId, out ulong number)
    {
        try
        {
            return File.TryFindSession(sessionId, out number);
        }
        catch (InvalidDataException ex)
        {
            throw source.RecordDamaged(0, ex);
        }
    }

    /// <summary>
    /// The committed session <paramref name="number"/> as a new entry, marked as exactly what the file holds
    /// (committed listing, version and totals); the caller files it.
    /// </summary>
    public bool TryLoad(ulong number, out SessionEntry entry)
    {
        try
        {
            if (!File.TryLoadSession(number, source, out entry))
            {
                return false;
            }
        }
        catch (InvalidDataException ex)
        {
            throw source.RecordDamaged(number, ex);
        }
        entry.SetCommitted(entry.Saved);
        entry.Listed = Listing.Of(entry.State.Metadata);
        entry.Touch();
        return true;
    }

    /// <summary>A pass over the file.</summary>
    public List<T> Read<T>(Func<IndexFile, List<T>> read)
    {
        try
        {
            return read(File);
        }
        catch (InvalidDataException ex)
        {
            throw source.RecordDamaged(0, ex);
        }
    }
}
