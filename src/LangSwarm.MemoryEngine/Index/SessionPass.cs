namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// A pass over every session of the store (the outlines, the sessions owing a summary): the sessions in memory
/// speak for themselves, and the file's records speak for the rest, so that a session changed since the file's
/// last commit is seen once, as it is now, and a session whose removal is not committed yet is not seen at all.
/// </summary>
internal static class SessionPass
{
    /// <summary>
    /// Each live entry of <paramref name="alive"/> goes to <paramref name="inMemory"/> (under its entry's lock),
    /// then each record of <paramref name="file"/> whose session is neither among them nor
    /// <paramref name="pending"/> (removed, not committed) to <paramref name="fromFile"/>. The caller holds the
    /// index's lock.
    /// </summary>
    public static List<TResult> Merge<TFile, TResult>(
        List<TFile> file,
        List<SessionEntry> alive,
        Func<ulong, bool> pending,
        Func<TFile, ulong> numberOf,
        Action<SessionEntry, List<TResult>> inMemory,
        Action<TFile, List<TResult>> fromFile)
    {
        var results = new List<TResult>(file.Count + 16);
        var numbers = new HashSet<ulong>();
        foreach (var e in alive)
        {
            lock (e.Lock)
            {
                if (!e.Removed)
                {
                    numbers.Add(e.Number);
                    inMemory(e, results);
                }
            }
        }
        foreach (var x in file)
        {
            var number = numberOf(x);
            if (!numbers.Contains(number) && !pending(number))
            {
                fromFile(x, results);
            }
        }
        return results;
    }
}
