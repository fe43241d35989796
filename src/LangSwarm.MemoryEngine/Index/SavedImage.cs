using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>What the index file holds of a session: the version saved and the keys it is filed under.</summary>
/// <param name="Version">Entry version at the save (0: not in the file).</param>
/// <param name="LastSequence">Highest message sequence saved (later appends are above it).</param>
/// <param name="Messages">Message entries in the file.</param>
/// <param name="Summaries">Summaries in the file.</param>
/// <param name="UpdatedTicks">The activity time of the listing keys in the file.</param>
/// <param name="User">The user of the by-user key in the file.</param>
/// <param name="Status">The status of the by-status key in the file.</param>
/// <param name="Counted">What the saved session adds to the store's totals.</param>
/// <param name="Owing">True when the saved state owes an automatic summary or eviction (filed under key <c>O</c>).</param>
internal sealed record SavedImage(long Version, long LastSequence, int Messages, int Summaries, long UpdatedTicks, string? User, SessionStatus Status, StoreTotals Counted, bool Owing)
{
    public static readonly SavedImage None = new(0, 0, 0, 0, 0, null, default, StoreTotals.Zero, false);

    /// <summary>True when <paramref name="state"/> owes the background summarizer work.</summary>
    public static bool Owes(SessionState state) => SummaryChain.Due(SessionSnapshot.Of(state));

    /// <summary>The listing keys the file holds for the session (null when it holds none).</summary>
    public Listing? Listing => InFile ? new Listing(UpdatedTicks, User, Status) : null;

    public bool InFile => Version != 0;
}
