using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// Where a session is filed in the listing key spaces (<c>T</c>, <c>U</c>, <c>A</c>): its activity time, user and
/// status. Listing order is newest activity first, then the newer session (higher number) first: the order of
/// a forward scan of <c>U</c> and of a reverse scan of <c>T</c> and <c>A</c>.
/// </summary>
internal readonly record struct Listing(long UpdatedTicks, string? User, SessionStatus Status)
{
    /// <summary>The listing of a session's metadata as it is now.</summary>
    public static Listing Of(SessionMetadata m) => new(m.UpdatedAt.UtcTicks, m.UserId, m.Status);

    /// <summary>True when (<paramref name="ticks"/>, <paramref name="number"/>) comes before (<paramref name="otherTicks"/>, <paramref name="otherNumber"/>) in listing order.</summary>
    public static bool Precedes(long ticks, ulong number, long otherTicks, ulong otherNumber) =>
        ticks != otherTicks ? ticks > otherTicks : number > otherNumber;
}
