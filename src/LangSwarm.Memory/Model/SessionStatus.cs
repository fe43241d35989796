namespace LangSwarm.Memory;

/// <summary>Lifecycle state of a session.</summary>
public enum SessionStatus : byte
{
    /// <summary>Open for new messages.</summary>
    Active = 0,
    /// <summary>Finished and kept for reading; adding messages reactivates nothing and is refused.</summary>
    Archived = 1,
    /// <summary>Past its retention; eligible for cleanup.</summary>
    Expired = 2,
}
