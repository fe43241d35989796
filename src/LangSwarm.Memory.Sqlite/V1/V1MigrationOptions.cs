namespace LangSwarm.Memory.Sqlite;

/// <summary>How <see cref="V1MemoryMigrator"/> reads a LangSwarm V1 session store.</summary>
public sealed class V1MigrationOptions
{
    /// <summary>
    /// The zone V1's zone-less local timestamps were written in (default: this machine's,
    /// <see cref="TimeZoneInfo.Local"/>, which is right when the migration runs where V1 ran).
    /// </summary>
    public TimeZoneInfo SourceTimeZone { get; set; } = TimeZoneInfo.Local;

    /// <summary>The key of the session metadata member that keeps V1's fields that have no V2 home.</summary>
    public string MetadataKey { get; set; } = "langswarm_v1";
}

/// <summary>One V1 session as read: its V2 record, or why it was skipped, and what could not be mapped.</summary>
/// <param name="SessionId">The V1 session id (null when the row had none).</param>
/// <param name="Record">The session as a V2 record; null when it was skipped.</param>
/// <param name="Error">Why the session was skipped; null when it was read.</param>
/// <param name="Notes">What was read but not mapped as it was (a message left out, a time assumed, ...).</param>
public sealed record V1Session(string? SessionId, PortableSession? Record, string? Error, IReadOnlyList<string> Notes);
