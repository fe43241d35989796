using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Index;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Picks a session's messages of some roles from the index file's role keys (<c>R</c>: session, role, sequence)
/// for the sequences the committed file holds, and from memory above them, so the cost follows the
/// messages of those roles rather than the session's length, and a session not in memory is not loaded whole.
/// </summary>
internal static class RolePicker
{
    /// <summary>Below this many committed entries of a session in memory, filtering them there is cheaper than the file.</summary>
    public const int MinCommittedInMemory = 2_048;

    /// <summary>
    /// The entries of live messages matching <paramref name="query"/> (which has roles), ascending; only the
    /// newest <paramref name="newest"/> when set. Null when the file cannot answer (the caller filters in memory):
    /// no file, nothing committed, a small session in memory, or damage met in the file.
    /// </summary>
    public static List<MessageEntry>? TryPick(SessionEntry entry, IndexFile? file, MessageQuery query, int? newest)
    {
        if (file is null || query.Roles is not { Count: > 0 } roles)
        {
            return null;
        }
        lock (entry.Lock)
        {
            var committed = entry.CommittedLastSequence;
            if (committed <= 0 || query.FromSequence > committed)
            {
                return null;
            }
            List<MessageEntry>? inMemory = null;
            var tailFrom = 0;
            if (entry.MessagesLoaded)
            {
                inMemory = entry.LoadMessages();
                tailFrom = entry.LowerBound(committed + 1);
                if (tailFrom < MinCommittedInMemory)
                {
                    return null;
                }
            }

            var picked = new List<MessageEntry>();
            try
            {
                if (!PickCommitted(entry, file, query, roles, Math.Min(query.ToSequence, committed), newest, inMemory, picked))
                {
                    return null;
                }
            }
            catch (InvalidDataException)
            {
                return null; // damage in the file: memory (or the segments) answer, and verify reports it
            }
            // Above the committed ones: the loaded list's, or the entries appended since without loading it.
            var above = inMemory ?? entry.TailAbove(committed);
            for (var i = tailFrom; i < above.Count && above[i].Sequence <= query.ToSequence; i++)
            {
                var m = above[i];
                if (query.Matches(m.Sequence, new DateTimeOffset(m.TimeTicks, TimeSpan.Zero), (MessageRole)m.Role))
                {
                    picked.Add(m);
                }
            }
            if (newest is { } n && picked.Count > n)
            {
                picked.RemoveRange(0, picked.Count - n);
            }
            return picked;
        }
    }

    /// <summary>
    /// Adds the committed matches up to <paramref name="last"/>, ascending; false when one the file names is not
    /// live any more and a newest-only pick may thus be short (the caller then filters in memory). Role keys of
    /// layout 5 hold no time (FORMAT.md §6.3), so <c>since</c> judges a candidate once it is resolved, and a
    /// newest-only pick takes the newest candidates a chunk at a time until it has enough: when times rise with
    /// the sequences, as they do in a conversation, the first chunk is the answer, as it was when the keys held
    /// the time.
    /// </summary>
    private static bool PickCommitted(SessionEntry entry, IndexFile file, MessageQuery query, IReadOnlyCollection<MessageRole> roles, long last, int? newest, List<MessageEntry>? inMemory, List<MessageEntry> picked)
    {
        var since = query.Since?.UtcTicks ?? long.MinValue;
        var from = Math.Max(0, query.FromSequence);
        var candidates = new List<long>();
        foreach (var role in roles.Distinct())
        {
            var taken = 0;
            var to = last == long.MaxValue ? last : last + 1;
            while (true)
            {
                var want = newest is { } n ? n - taken : int.MaxValue;
                candidates.Clear();
                file.VisitRole(entry.Number, role, from, to, newestFirst: newest is not null, (sequence, ticks) =>
                {
                    if (ticks == IndexFile.UnknownTime || ticks >= since)
                    {
                        candidates.Add(sequence);
                    }
                    return candidates.Count < want;
                });
                foreach (var sequence in candidates)
                {
                    if (!TryResolve(entry, file, inMemory, sequence, out var m))
                    {
                        if (newest is not null)
                        {
                            return false;
                        }
                        continue; // evicted or lost since the file's commit
                    }
                    if (m.TimeTicks >= since)
                    {
                        picked.Add(m);
                        taken++;
                    }
                }
                if (newest is null || taken >= newest || candidates.Count < want)
                {
                    break;
                }
                to = candidates[^1]; // newest first: the lowest sequence visited, which the next chunk stops below
            }
        }
        picked.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return true;
    }

    /// <summary>The live entry of <paramref name="sequence"/>: from memory when the session is loaded, else from the file.</summary>
    private static bool TryResolve(SessionEntry entry, IndexFile file, List<MessageEntry>? inMemory, long sequence, out MessageEntry m)
    {
        if (inMemory is null)
        {
            return file.TryGetMessage(entry.Number, sequence, out m);
        }
        var i = entry.LowerBound(sequence);
        if (i < inMemory.Count && inMemory[i].Sequence == sequence)
        {
            m = inMemory[i];
            return true;
        }
        m = default;
        return false;
    }
}
