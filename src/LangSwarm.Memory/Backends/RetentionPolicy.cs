namespace LangSwarm.Memory;

/// <summary>
/// What a backend deletes by itself, in the background (<see cref="MemoryBackendBase.Retention"/>). Ages are
/// measured from a session's last activity (<see cref="SessionMetadata.UpdatedAt"/>; archiving is the last
/// activity of an archived session) against the backend's <see cref="MemoryBackendBase.Clock"/>. The seed's
/// <c>cleanup_expired_sessions(max_age_days)</c> is the on-demand form; this is its automated "data retention
/// policy".
/// </summary>
public sealed record RetentionPolicy
{
    /// <summary>The option names of <see cref="FromSettings"/>, for a provider's list of valid options.</summary>
    public static readonly IReadOnlyList<string> OptionNames = ["max_age_days", "archived_max_age_days", "retention_interval_ms"];

    /// <summary>
    /// Archived sessions idle this long are deleted (option <c>archived_max_age_days</c>). Null: kept.
    /// </summary>
    public TimeSpan? ArchivedMaxAge { get; init; }

    /// <summary>
    /// Any session, active or archived, idle this long is deleted, as <c>cleanup_expired_sessions(max_age_days)</c>
    /// would (option <c>max_age_days</c>). Null: kept.
    /// </summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>How often the background pass runs (option <c>retention_interval_ms</c>, default one hour); the first runs at connect.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>True when the policy deletes anything.</summary>
    public bool IsEnabled => ArchivedMaxAge is not null || MaxAge is not null;

    /// <summary>
    /// The policy from backend options (<see cref="OptionNames"/>); null when neither age is given. Ages are whole
    /// days from 0, as the seed's <c>max_age_days</c>; an age longer than the calendar holds keeps every session.
    /// </summary>
    public static RetentionPolicy? FromSettings(BackendSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        TimeSpan? Days(string key) =>
            settings.Contains(key) ? RetentionRunner.AgeFromDays(settings.GetInt(key, 30, 0, int.MaxValue)) : null;
        var policy = new RetentionPolicy
        {
            ArchivedMaxAge = Days("archived_max_age_days"),
            MaxAge = Days("max_age_days"),
            Interval = TimeSpan.FromMilliseconds(settings.GetInt("retention_interval_ms", 3_600_000, 10, int.MaxValue)),
        };
        return policy.IsEnabled ? policy : null;
    }

    /// <summary>
    /// Throws when an age is negative (<see cref="ArgumentOutOfRangeException"/>, as
    /// <c>CleanupExpiredSessionsAsync</c> does) or the interval is not positive. Any age up to
    /// <see cref="TimeSpan.MaxValue"/> is valid: one older than the calendar deletes nothing.
    /// </summary>
    internal void Validate()
    {
        if (ArchivedMaxAge < TimeSpan.Zero || MaxAge < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(ArchivedMaxAge < TimeSpan.Zero ? nameof(ArchivedMaxAge) : nameof(MaxAge), "Retention ages must not be negative.");
        }
        if (Interval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The retention interval must be positive (was {Interval}).");
        }
    }
}
