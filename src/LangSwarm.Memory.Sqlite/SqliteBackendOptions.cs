namespace LangSwarm.Memory.Sqlite;

/// <summary>Options of a <see cref="SqliteBackend"/>.</summary>
public sealed class SqliteBackendOptions
{
    /// <summary>The name that selects a private in-memory database.</summary>
    public const string InMemoryPath = ":memory:";

    /// <summary>The database file used when no path is given.</summary>
    public const string DefaultDbPath = "memory.db";

    /// <summary>Database file path, or <c>:memory:</c> for a database that lives as long as the backend.</summary>
    public string DbPath { get; set; } = DefaultDbPath;

    /// <summary>Use write-ahead logging (file databases only): readers never block the writer. Default true.</summary>
    public bool EnableWal { get; set; } = true;

    /// <summary>Enforce foreign keys (<c>PRAGMA foreign_keys=ON</c>). Default true.</summary>
    public bool EnableForeignKeys { get; set; } = true;

    /// <summary>How long a statement waits for a lock held by another process before failing, in milliseconds. Default 5000.</summary>
    public int BusyTimeoutMs { get; set; } = 5000;

    /// <summary>Commit durability (<c>PRAGMA synchronous</c>). Default <see cref="SqliteDurability.Full"/>.</summary>
    public SqliteDurability Durability { get; set; } = SqliteDurability.Full;

    /// <summary>Counts tokens of messages that arrive without a count (null: the default tokenizer).</summary>
    public ITokenCounter? TokenCounter { get; set; }

    /// <summary>Makes summaries (null: the extractive summarizer).</summary>
    public ISummarizer? Summarizer { get; set; }

    /// <summary>True when <see cref="DbPath"/> names an in-memory database.</summary>
    public bool IsInMemory => string.Equals(DbPath, InMemoryPath, StringComparison.Ordinal);

    /// <summary>A copy, so a backend is not affected by later changes to the options it was made from.</summary>
    public SqliteBackendOptions Clone() => (SqliteBackendOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentException"/> when an option is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DbPath))
        {
            throw new ArgumentException("DbPath must name a database file or be \":memory:\".", nameof(DbPath));
        }
        if (DbPath.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("DbPath must not contain NUL characters.", nameof(DbPath));
        }
        if (BusyTimeoutMs < 0)
        {
            throw new ArgumentException($"BusyTimeoutMs must not be negative (was {BusyTimeoutMs}).", nameof(BusyTimeoutMs));
        }
        if (!Enum.IsDefined(Durability))
        {
            throw new ArgumentException($"Unknown durability {(int)Durability}.", nameof(Durability));
        }
    }
}
