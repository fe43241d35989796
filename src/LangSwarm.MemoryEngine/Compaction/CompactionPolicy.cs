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
            long total = 0;
            foreach (var s in e.Segments)
            {
                total += s.Length - FileHeader.Size;
            }
            if (total <= 0)
            {
                return false;
            }
            var archivedWarm = e.State.Metadata.Status == SessionStatus.Archived && !e.Cold;
            return archivedWarm || (e.DeadBytes > 0 && (double)e.DeadBytes / total >= minDeadFraction);
        }
    }
}
