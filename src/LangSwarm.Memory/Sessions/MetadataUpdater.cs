using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>Applies an <c>update_metadata</c> dictionary: typed fields by name, everything else into custom metadata.</summary>
internal static class MetadataUpdater
{
    /// <summary>Applies <paramref name="updates"/> to <paramref name="target"/>.</summary>
    /// <param name="target">The metadata to change.</param>
    /// <param name="updates">The seed's update dictionary.</param>
    /// <param name="ownerFixed">
    /// True for an update of an existing session: <c>user_id</c> (the owner) may then only be named with the value it
    /// already has; any other value (null included) is an <see cref="ArgumentException"/>.
    /// </param>
    public static void Apply(SessionMetadata target, IReadOnlyDictionary<string, object?> updates, bool ownerFixed = false)
    {
        foreach (var (key, value) in updates)
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                throw new ArgumentException("Metadata keys must not be empty.", nameof(updates));
            }
            switch (Normalize(key))
            {
                case "maxmessages": target.MaxMessages = ToInt(key, value); break;
                case "maxtokens": target.MaxTokens = ToInt(key, value); break;
                case "autosummarizethreshold": target.AutoSummarizeThreshold = ToInt(key, value); break;
                case "evictionlowwater": target.EvictionLowWater = ToDouble(key, value); break;
                case "summarystrategy": target.SummaryStrategy = ToEnum<SummaryStrategy>(key, value); break;
                case "status": target.Status = ToEnum<SessionStatus>(key, value); break;
                case "userid":
                    var user = value?.ToString();
                    if (ownerFixed && !string.Equals(user, target.UserId, StringComparison.Ordinal))
                    {
                        throw new ArgumentException($"'{key}' (the session's owner) cannot be changed through UpdateMetadataAsync.", nameof(updates));
                    }
                    if (user is not null)
                    {
                        MessageValidator.ValidateUserId(user, nameof(updates));
                    }
                    target.UserId = user;
                    break;
                case "sessionid":
                case "createdat":
                case "updatedat":
                    throw new ArgumentException($"'{key}' cannot be changed through UpdateMetadataAsync.", nameof(updates));
                case "custommetadata" when value is not null:
                    foreach (var (k, v) in ToNode(key, value) as JsonObject ?? throw new ArgumentException("custom_metadata must be an object.", nameof(updates)))
                    {
                        target.Metadata[k] = v?.DeepClone();
                    }
                    break;
                default:
                    if (value is null)
                    {
                        target.Metadata.Remove(key);
                    }
                    else
                    {
                        target.Metadata[key] = ToNode(key, value);
                    }
                    break;
            }
        }
    }

    internal static string Normalize(string key) => key.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    private static JsonNode? ToNode(string key, object value)
    {
        try
        {
            // A string is kept as it is (the serializer would turn an unpaired surrogate into U+FFFD; the limit
            // check refuses it instead); other CLR values serialize strictly (StrictJson), so they are stored
            // exactly or refused. MemoryLimits.ValidateSessionMetadata checks the result.
            return value switch
            {
                JsonNode n => n.DeepClone(),
                JsonElement e => JsonNode.Parse(e.GetRawText(), null, MemoryLimits.JsonReadOptions),
                string s => JsonValue.Create(s),
                _ => JsonSerializer.SerializeToNode(value, value.GetType(), StrictJson.Options),
            };
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException or ArgumentException)
        {
            // The value's kind, never the value or an exception text that may quote it (metadata may hold secrets).
            throw new ArgumentException($"Metadata value for '{key}' ({Describe(value)}) cannot be stored as JSON ({ex.GetType().Name}).", key);
        }
    }

    private static int ToInt(string key, object? value)
    {
        try
        {
            return value switch
            {
                int i => i,
                JsonValue j => j.GetValue<int>(),
                JsonElement e => e.GetInt32(),
                string s => int.Parse(s, CultureInfo.InvariantCulture),
                IConvertible c => c.ToInt32(CultureInfo.InvariantCulture),
                _ => throw new FormatException("not a number"),
            };
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException or InvalidOperationException)
        {
            // No inner exception: a parse error quotes its input.
            throw new ArgumentException($"Metadata '{key}' needs an integer (got {Describe(value)}).", key);
        }
    }

    private static double ToDouble(string key, object? value)
    {
        try
        {
            return value switch
            {
                double d => d,
                float f => f,
                JsonValue j => j.GetValue<double>(),
                JsonElement e => e.GetDouble(),
                string s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
                IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
                _ => throw new FormatException("not a number"),
            };
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException or InvalidOperationException)
        {
            throw new ArgumentException($"Metadata '{key}' needs a number (got {Describe(value)}).", key);
        }
    }

    private static T ToEnum<T>(string key, object? value)
        where T : struct, Enum
    {
        if (value is T t && Enum.IsDefined(t))
        {
            return t;
        }
        var text = value?.ToString();
        if (text is not null && Enum.TryParse<T>(text.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(text, out _))
        {
            return parsed;
        }
        throw new ArgumentException($"Metadata '{key}' must be one of: {string.Join(", ", Enum.GetNames<T>()).ToLowerInvariant()} (got {Describe(value)}).", key);
    }

    /// <summary>
    /// What a rejected value is, for an error message: its kind and size, never its text (metadata values may
    /// hold secrets, and errors reach logs).
    /// </summary>
    internal static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"a string of {s.Length} characters",
        JsonObject => "a JSON object",
        JsonArray => "a JSON array",
        JsonNode => "a JSON value",
        JsonElement e => $"a JSON {e.ValueKind.ToString().ToLowerInvariant()}",
        _ => $"a value of type {value.GetType().Name}",
    };
}
