using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;

namespace LangSwarm.MemoryEngine.Compaction;

/// <summary>Which sessions a vacuum rewrites: those whose dead bytes pass a fraction, and archived ones not yet cold.</summary>
internal static class CompactionPolicy
{
    /// <summary>True when rewriting the session is worth it.</summary>
    public static bool ShouldRewrite(SessionEntry e, double minDeadFraction)
    {
        lock (e.Lock)
        {
            return ShouldRewrite(SessionOutline.Of(e), minDeadFraction);
        }
    }

    /// <summary>True when rewriting the session of <paramref name="o"/> is worth it.</summary>
    public static bool ShouldRewrite(in SessionOutline o, double minDeadFraction)
    {
        long total = 0;
        foreach (var s in o.Segments)
        {
            total += s.Length - FileHeader.Size;
        }
        if (total <= 0)
        {
            return false;
        }
        var archivedWarm = o.Status == SessionStatus.Archived && !o.Cold;
        return archivedWarm || (o.DeadBytes > 0 && (double)o.DeadBytes / total >= minDeadFraction);
    }
}
