using System.Globalization;

namespace LangSwarm.Memory.Cli;

/// <summary><c>--since</c> values: an ISO 8601 time (UTC when it names no zone) or an age (<c>90s</c>, <c>30m</c>, <c>2h</c>, <c>7d</c>).</summary>
internal static class TimeArg
{
    /// <summary>The time a value names, or null for null.</summary>
    /// <exception cref="CliUsageException">The value is neither a time nor an age.</exception>
    public static DateTimeOffset? Parse(string? value, TimeProvider? clock = null)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var text = value.Trim();
        if (text.Length >= 2 && char.IsAsciiDigit(text[0]) && "smhd".Contains(text[^1], StringComparison.Ordinal)
            && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            var age = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
            return (clock ?? TimeProvider.System).GetUtcNow() - age;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
        {
            return t;
        }
        throw new CliUsageException($"--since '{value}' is neither an ISO 8601 time (2026-12-01T04:00:00Z) nor an age (90s, 30m, 2h, 7d).");
    }
}
