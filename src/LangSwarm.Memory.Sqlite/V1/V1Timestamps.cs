using System.Globalization;
using System.Text.RegularExpressions;

namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// Times as LangSwarm V1 stored them: ISO 8601 local time without a zone (Python's <c>datetime.isoformat()</c>,
/// with <c>T</c> or a space, with or without microseconds), read in the source's time zone; a time that names its
/// zone (<c>Z</c>, <c>+02:00</c>) keeps it; a number (or digits) is Unix seconds.
/// </summary>
internal static partial class V1Timestamps
{
    /// <summary>The time a V1 value names, as UTC; null when it names none.</summary>
    public static DateTimeOffset? Parse(object? value, TimeZoneInfo zone)
    {
        switch (value)
        {
            case null or DBNull:
                return null;
            case long seconds:
                return FromUnix(seconds);
            case double seconds:
                return FromUnix(seconds);
            case string text:
                return ParseText(text.Trim(), zone);
            default:
                return null;
        }
    }

    private static DateTimeOffset? ParseText(string text, TimeZoneInfo zone)
    {
        if (text.Length == 0)
        {
            return null;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var unix))
        {
            return FromUnix(unix);
        }
        if (ZoneSuffix().IsMatch(text))
        {
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var zoned) ? zoned.ToUniversalTime() : null;
        }
        if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var local))
        {
            return null;
        }
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            // A wall-clock time the zone skipped (the spring-forward hour): read it with the offset before the jump.
            local = local.AddHours(1);
        }
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
    }

    private static DateTimeOffset? FromUnix(double seconds) =>
        seconds is > -62135596800 and < 253402300799 ? DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond)) : null;

    [GeneratedRegex(@"(Z|[+-]\d\d(:?\d\d)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex ZoneSuffix();
}
