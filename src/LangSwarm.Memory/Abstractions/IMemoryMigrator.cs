namespace LangSwarm.Memory;

/// <summary>Moves sessions and messages from an older store into a V2 backend.</summary>
public interface IMemoryMigrator
{
    /// <summary>Migrates every session of <paramref name="sourceBackend"/> into <paramref name="targetBackend"/>.</summary>
    Task<MigrationReport> MigrateSessionsAsync(
        string sourceBackend,
        IMemoryBackend targetBackend,
        int batchSize = 100,
        CancellationToken cancellationToken = default);

    /// <summary>Migrates messages of the sessions named in <paramref name="sessionMapping"/> (source id → target id).</summary>
    Task<MigrationReport> MigrateMessagesAsync(
        IReadOnlyDictionary<string, string> sessionMapping,
        IMemoryBackend targetBackend,
        CancellationToken cancellationToken = default);

    /// <summary>True when the target holds at least every session and message of the source.</summary>
    Task<bool> ValidateMigrationAsync(UsageStats sourceStats, UsageStats targetStats, CancellationToken cancellationToken = default);
}

/// <summary>Outcome of a migration step.</summary>
public sealed record MigrationReport(int SessionsMigrated, long MessagesMigrated, int SessionsSkipped, IReadOnlyList<string> Errors);
