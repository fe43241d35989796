namespace LangSwarm.Memory;

/// <summary>
/// The stable event ids of LangSwarm memory's log events (<c>ILogger</c>). Ids never change meaning; new events
/// take new ids. 1000–1099: the session layer and backends; 1100–1199: hosting; 1200–1299: the Agent Framework
/// and Microsoft.Extensions.AI integrations; 2000–2099: the engine. No event logs message content.
/// </summary>
public static class MemoryEventIds
{
    /// <summary>A backend connected (Information).</summary>
    public const int BackendConnected = 1000;

    /// <summary>A backend could not connect (Error).</summary>
    public const int BackendConnectFailed = 1001;

    /// <summary>A backend disconnected (Information).</summary>
    public const int BackendDisconnected = 1002;

    /// <summary>A background summary failed and will be retried (Warning).</summary>
    public const int SummaryFailed = 1010;

    /// <summary>An eviction after an add failed; the next add retries it (Warning).</summary>
    public const int EvictionFailed = 1011;

    /// <summary>A retention pass ended (Information when it deleted sessions, else Debug).</summary>
    public const int RetentionPass = 1020;

    /// <summary>A retention pass failed; it runs again at the next interval (Warning).</summary>
    public const int RetentionFailed = 1021;

    /// <summary>The hosted memory service started its store (Information).</summary>
    public const int HostStarted = 1100;

    /// <summary>The hosted memory service stopped its store (Information).</summary>
    public const int HostStopped = 1101;

    /// <summary>Chat history was loaded for an agent or chat client call (Debug).</summary>
    public const int HistoryLoaded = 1200;

    /// <summary>Messages of an agent or chat client call were stored (Debug).</summary>
    public const int HistoryStored = 1201;

    /// <summary>A chat message list was reduced to the token budget (Debug).</summary>
    public const int HistoryReduced = 1202;

    /// <summary>An engine store opened: what recovery found and how long it took (Information).</summary>
    public const int StoreOpened = 2000;

    /// <summary>An engine open found damage in the middle of a file: reported, skipped, never returned as data (Warning).</summary>
    public const int StoreDamageFound = 2001;

    /// <summary>An engine open cut a torn tail (unsynced bytes a crash left half-written) (Information).</summary>
    public const int TornTailCut = 2002;

    /// <summary>
    /// An engine's sweep after an unclean open removed or cut files a crash left behind (Information), or found a
    /// file in its segment directory that is not the engine's (Warning, left alone).
    /// </summary>
    public const int LeftoversSwept = 2003;

    /// <summary>An engine's sweep after an unclean open failed (Warning); the files stay, and the next open sweeps again.</summary>
    public const int SweepFailed = 2004;

    /// <summary>An engine checkpoint completed (Debug).</summary>
    public const int CheckpointCompleted = 2010;

    /// <summary>An engine vacuum completed (Information when it rewrote sessions, else Debug).</summary>
    public const int VacuumCompleted = 2020;

    /// <summary>An fsync of the engine's commit log took longer than a second (Warning): the disk is struggling.</summary>
    public const int SlowFsync = 2030;

    /// <summary>An engine store opened although users other than its owner can write some of its files (PermissionCheck.Warn).</summary>
    public const int StoreWritableByOthers = 2040;
}
