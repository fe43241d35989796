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
        var owing = 0;
        var totals = StoreTotals.Zero;
        foreach (var (number, value) in sessions)
        {
            SessionEntry e;
            try
            {
                e = SessionRecord.Read(number, value, NoContent.Instance, out var messageCount, out var summaryCount);
                totals += StoreTotals.Of(e) with { Messages = messageCount, Summaries = summaryCount };
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
            owing += SavedImage.Owes(e.State) ? 1 : 0;
        }
        var expected = new Dictionary<byte, int> { [IndexKeys.SessionId] = sessions.Count, [IndexKeys.Time] = sessions.Count, [IndexKeys.Status] = sessions.Count, [IndexKeys.User] = users };
        if (tree.TryGet(IndexKeys.LayoutKey, out var layout) && layout.Length == 4 && layout[3] >= 3)
        {
            expected[IndexKeys.Owing] = owing;
        }
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
        if (tree.TryGet(IndexKeys.TotalsKey, out var stored) && StoreTotals.Decode(stored) != totals)
        {
            problems.Add($"index file: totals key says {StoreTotals.Decode(stored)}, the session records add up to {totals}");
        }
        try
        {
            CheckRoles(tree, problems);
        }
        catch (InvalidDataException ex)
        {
            problems.Add($"index file: {ex.Message}");
        }
        return problems;
    }

    /// <summary>Every message entry is filed under its role, and the role space holds nothing else.</summary>
    private static void CheckRoles(BPlusTree tree, List<string> problems)
    {
        var messages = new List<(ulong Number, long Sequence, MessageRole Role)>();
        var (from, to) = IndexKeys.Space(IndexKeys.Message);
        tree.Scan(from, to, (k, v) =>
        {
            var sequence = IndexKeys.SequenceOf(k);
            messages.Add((System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(k.AsSpan(1)), sequence, (MessageRole)SessionRecord.DecodeMessage(sequence, v).Role));
            return true;
        });
        foreach (var (number, sequence, role) in messages)
        {
            if (!tree.TryGet(IndexKeys.ForRole(number, role, sequence), out _))
            {
                problems.Add($"index file: message {sequence} of session number {number} is not filed under its role");
                return;
            }
        }
        (from, to) = IndexKeys.Space(IndexKeys.Role);
        var roles = 0;
        tree.Scan(from, to, (_, _) =>
        {
            roles++;
            return true;
        });
        if (roles != messages.Count)
        {
            problems.Add($"index file: key space 'R' holds {roles} keys for {messages.Count} message entries");
        }
    }

    /// <summary>For records read only to be checked.</summary>
    private sealed class NoContent : ISessionContentSource
    {
        public static readonly NoContent Instance = new();

        public List<MessageEntry> LoadMessages(SessionEntry entry) => [];

        public List<ConversationSummary> LoadSummaries(SessionEntry entry) => [];

        public Exception RecordDamaged(ulong number, InvalidDataException why) => why;
    }
}
