namespace LangSwarm.Memory.Sqlite;

/// <summary>How hard SQLite works to keep committed data across a power loss (<c>PRAGMA synchronous</c>).</summary>
public enum SqliteDurability
{
    /// <summary><c>synchronous=FULL</c>: every commit is synced; a committed change survives a power loss.</summary>
    Full = 0,

    /// <summary>
    /// <c>synchronous=NORMAL</c>: with WAL, commits are synced at checkpoints only; the database never corrupts,
    /// but the last commits before a power loss may be rolled back. Faster writes.
    /// </summary>
    Normal = 1,
}
