using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Index.BTree;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>The index file's own consistency check (verify): its tree, and every session filed in each key space.</summary>
internal static class IndexFileCheck
{
    /// <summary>Checks the file's structure, and that every session is filed under its id, time, status and user.</summary>
    public static List<string> Run(BPlusTree tree)
    {
        var problems = tree.Check();
        if (problems.Count > 0)
        {
            return problems;
        }
        var (from, to) = IndexKeys.Space(IndexKeys.Session);
        var sessions = new List<(ulong, byte[])>();
        try
        {
            tree.Scan(from, to, (k, v) =>
            {
                sessions.Add((IndexKeys.NumberOf(k), v));
                return true;
            });
        }
        catch (InvalidDataException ex)
        {
            problems.Add(ex.Message);
            return problems;
        }
        var users = 0;
        foreach (var (number, value) in sessions)
        {
            SessionEntry e;
            try
            {
                e = SessionRecord.Read(number, value, NoContent.Instance, out _, out _);
            }
            catch (InvalidDataException ex)
            {
                problems.Add($"index session record {number}: {ex.Message}");
                continue;
            }
            var m = e.State.Metadata;
            if (!tree.TryGet(IndexKeys.ForSessionId(m.SessionId), out var byId) || byId.Length != 8 || IndexKeys.NumberOf([IndexKeys.Session, .. byId]) != number)
            {
                problems.Add($"index file: session '{m.SessionId}' is not filed under its id");
            }
            if (!tree.TryGet(IndexKeys.ForTime(m.UpdatedAt.UtcTicks, number), out _))
            {
                problems.Add($"index file: session '{m.SessionId}' is not filed under its activity time");
            }
            if (!tree.TryGet(IndexKeys.ForStatus(m.Status, m.UpdatedAt.UtcTicks, number), out _))
            {
                problems.Add($"index file: session '{m.SessionId}' is not filed under its status");
            }
            if (m.UserId is { } user && !tree.TryGet(IndexKeys.ForUser(user, m.UpdatedAt.UtcTicks, number), out _))
            {
                problems.Add($"index file: session '{m.SessionId}' is not filed under its user");
            }
            users += m.UserId is null ? 0 : 1;
        }
        var expected = new Dictionary<byte, int> { [IndexKeys.SessionId] = sessions.Count, [IndexKeys.Time] = sessions.Count, [IndexKeys.Status] = sessions.Count, [IndexKeys.User] = users };
        foreach (var (space, count) in expected)
        {
            var (f, t) = IndexKeys.Space(space);
            var found = 0;
            tree.Scan(f, t, (_, _) =>
            {
                found++;
                return true;
            });
            if (found != count)
            {
                problems.Add($"index file: key space '{(char)space}' holds {found} keys for {count} sessions");
            }
        }
        return problems;
    }

    /// <summary>For records read only to be checked.</summary>
    private sealed class NoContent : ISessionContentSource
    {
        public static readonly NoContent Instance = new();

        public List<MessageEntry> LoadMessages(SessionEntry entry) => [];

        public List<ConversationSummary> LoadSummaries(SessionEntry entry) => [];
    }
}
