using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;

namespace LangSwarm.MemoryEngine.Compaction;

/// <summary>What a vacuum does with one session.</summary>
internal enum CompactionChoice
{
    /// <summary>Leave it as it is.</summary>
    None,

    /// <summary>Rewrite it into segments of its own (<see cref="SessionRewriter"/>).</summary>
    Rewrite,

    /// <summary>Pack it with other small sessions (<see cref="SessionPacker"/>).</summary>
    Pack,
}

/// <summary>When a vacuum packs small sessions: below <paramref name="BelowBytes"/> of live records, not written since <paramref name="IdleBeforeTicks"/>.</summary>
/// <param name="BelowBytes">Largest session packed (0: never pack).</param>
/// <param name="IdleBeforeTicks">Sessions updated after this time are left in their own files.</param>
/// <param name="SparsePacks">Packs at most half live: their sessions move out of them.</param>
internal sealed record PackRule(long BelowBytes, long IdleBeforeTicks, IReadOnlySet<uint> SparsePacks)
{
    public static readonly PackRule Never = new(0, 0, new HashSet<uint>());
}

/// <summary>
/// Which sessions a vacuum compacts: small idle ones into packs; into their own segments those whose dead bytes
/// pass a fraction, archived ones not yet cold, and large ones leaving a sparse pack.
/// </summary>
internal static class CompactionPolicy
{
    /// <summary>True when rewriting the session is worth it (no packing).</summary>
    public static bool ShouldRewrite(SessionEntry e, double minDeadFraction) => Choose(e, minDeadFraction, PackRule.Never) == CompactionChoice.Rewrite;

    /// <summary>True when rewriting the session of <paramref name="o"/> is worth it (no packing).</summary>
    public static bool ShouldRewrite(in SessionOutline o, double minDeadFraction) => Choose(o, minDeadFraction, PackRule.Never) == CompactionChoice.Rewrite;

    /// <summary>What to do with a session in memory.</summary>
    public static CompactionChoice Choose(SessionEntry e, double minDeadFraction, PackRule packing)
    {
        lock (e.Lock)
        {
            return Choose(SessionOutline.Of(e), minDeadFraction, packing);
        }
    }

    /// <summary>What to do with the session of <paramref name="o"/>.</summary>
    public static CompactionChoice Choose(in SessionOutline o, double minDeadFraction, PackRule packing)
    {
        var total = o.Bytes;
        if (total <= 0)
        {
            return CompactionChoice.None;
        }
        var archivedWarm = o.Status == SessionStatus.Archived && !o.Cold;
        var deadEnough = o.DeadBytes > 0 && (double)o.DeadBytes / total >= minDeadFraction;
        var inSparsePack = o.Pack is { } g && packing.SparsePacks.Contains(g.Pack);
        var small = packing.BelowBytes > 0 && total - o.DeadBytes <= packing.BelowBytes;
        var idle = o.UpdatedTicks <= packing.IdleBeforeTicks;
        if (small && (inSparsePack || (idle && (o.Segments.Length > 0 || deadEnough || archivedWarm))))
        {
            return CompactionChoice.Pack;
        }
        return archivedWarm || deadEnough || inSparsePack ? CompactionChoice.Rewrite : CompactionChoice.None;
    }

    /// <summary>Packs whose live groups fill at most half of them.</summary>
    public static HashSet<uint> SparsePacks(PackTable packs)
    {
        var sparse = new HashSet<uint>();
        foreach (var (number, length, live, _) in packs.List())
        {
            if (live * 2 <= length - FileHeader.Size)
            {
                sparse.Add(number);
            }
        }
        return sparse;
    }
}
