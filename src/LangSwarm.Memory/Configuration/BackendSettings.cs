using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>
/// Options for a backend, by name. Keys match in snake_case or PascalCase alike (<c>db_path</c> = <c>DbPath</c>).
/// Typed getters fail with a <see cref="MemoryConfigurationException"/> that says what was expected.
/// </summary>
public sealed class BackendSettings
{
    private readonly Dictionary<string, (string Key, object? Value)> _values = new(StringComparer.Ordinal);

    /// <summary>Creates settings from a dictionary (null: empty).</summary>
    public BackendSettings(IEnumerable<KeyValuePair<string, object?>>? values = null)
    {
        if (values is null)
        {
            return;
        }
        foreach (var (k, v) in values)
        {
            if (string.IsNullOrWhiteSpace(k))
            {
                throw new MemoryConfigurationException("Backend option names must not be empty.");
            }
            _values[MetadataUpdater.Normalize(k)] = (k, v is JsonElement e ? JsonNode.Parse(e.GetRawText()) : v);
        }
    }

    /// <summary>The option names given, as spelled.</summary>
    public IEnumerable<string> Keys => _values.Values.Select(v => v.Key);

    /// <summary>True when the option was given.</summary>
    public bool Contains(string key) => _values.ContainsKey(MetadataUpdater.Normalize(key));

    /// <summary>These settings with <paramref name="key"/> set to <paramref name="value"/> (replacing it when given).</summary>
    public BackendSettings With(string key, object? value)
    {
        var copy = new BackendSettings();
        foreach (var (norm, entry) in _values)
        {
            copy._values[norm] = entry;
        }
        copy._values[MetadataUpdater.Normalize(key)] = (key, value);
        return copy;
    }

    /// <summary>Throws when an option is not one of <paramref name="valid"/>, listing the valid ones.</summary>
    public void EnsureOnly(string backend, params string[] valid)
    {
        var known = new HashSet<string>(valid.Select(MetadataUpdater.Normalize), StringComparer.Ordinal);
        foreach (var (norm, (key, _)) in _values)
        {
            if (!known.Contains(norm))
            {
                throw new MemoryConfigurationException(
                    $"Unknown option '{key}' for backend '{backend}'. Valid options: {string.Join(", ", valid)}.");
            }
        }
    }

    /// <summary>A string option.</summary>
    public string? GetString(string key, string? fallback = null) =>
        _values.TryGetValue(MetadataUpdater.Normalize(key), out var v) && v.Value is not null ? Convert.ToString(Unwrap(v.Value), CultureInfo.InvariantCulture) : fallback;

    /// <summary>An integer option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int GetInt(string key, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!_values.TryGetValue(MetadataUpdater.Normalize(key), out var v) || v.Value is null)
        {
            return fallback;
        }
        var raw = Unwrap(v.Value);
        // Convert.ToInt32 would turn true into 1 and round 2.5 to 2: neither is an integer option.
        if (raw is bool || (raw is double d && d != Math.Truncate(d)) || (raw is float f && f != MathF.Truncate(f)) || (raw is decimal m && m != decimal.Truncate(m)))
        {
            throw new MemoryConfigurationException($"Option '{v.Key}' needs an integer (got '{v.Value}').");
        }
        int result;
        try
        {
            result = Convert.ToInt32(raw, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
        {
            throw new MemoryConfigurationException($"Option '{v.Key}' needs an integer (got '{v.Value}').", ex);
        }
        if (result < min || result > max)
        {
            throw new MemoryConfigurationException($"Option '{v.Key}' must be between {min} and {max} (got {result}).");
        }
        return result;
    }

    /// <summary>A boolean option (true/false, yes/no, 1/0).</summary>
    public bool GetBool(string key, bool fallback)
    {
        if (!_values.TryGetValue(MetadataUpdater.Normalize(key), out var v) || v.Value is null)
        {
            return fallback;
        }
        var raw = Unwrap(v.Value);
        if (raw is bool b)
        {
            return b;
        }
        return Convert.ToString(raw, CultureInfo.InvariantCulture)?.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" or "1" or "on" => true,
            "false" or "no" or "0" or "off" => false,
            _ => throw new MemoryConfigurationException($"Option '{v.Key}' needs true or false (got '{v.Value}')."),
        };
    }

    /// <summary>An enum option by name, case-insensitive.</summary>
    public T GetEnum<T>(string key, T fallback)
        where T : struct, Enum
    {
        var s = GetString(key);
        if (s is null)
        {
            return fallback;
        }
        if (Enum.TryParse<T>(s, ignoreCase: true, out var r) && Enum.IsDefined(r) && !int.TryParse(s, out _))
        {
            return r;
        }
        throw new MemoryConfigurationException($"Option '{key}' must be one of: {string.Join(", ", Enum.GetNames<T>())} (got '{s}').");
    }

    private static object? Unwrap(object value)
    {
        if (value is not JsonValue j)
        {
            return value;
        }
        // A JsonValue may wrap a JSON element (parsed text) or any CLR value (new JsonObject { ["port"] = 6380 });
        // reading it back as JSON treats both alike.
        using var doc = JsonDocument.Parse(j.ToJsonString());
        var e = doc.RootElement;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
            _ => value,
        };
    }
}
