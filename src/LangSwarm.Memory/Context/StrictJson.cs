using System.Text.Json;
using System.Text.Json.Serialization;

namespace LangSwarm.Memory;

/// <summary>
/// Serializer options that refuse text JSON cannot carry exactly. System.Text.Json writes an unpaired surrogate
/// as U+FFFD without a word; these options throw <see cref="ArgumentException"/> instead, for every string and
/// dictionary key a CLR value holds, so a metadata value is stored exactly or refused (never silently changed).
/// Nesting is bounded by <see cref="MemoryLimits.MaxJsonDepth"/>.
/// </summary>
internal static class StrictJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions { MaxDepth = MemoryLimits.MaxJsonDepth };
        options.Converters.Add(new StrictStringConverter());
        options.Converters.Add(new StrictCharConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static void Require(string value)
    {
        if (!MessageValidator.IsValidUtf16(value))
        {
            throw new ArgumentException("The text is not valid UTF-16 (it holds an unpaired surrogate).");
        }
    }

    private sealed class StrictStringConverter : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetString();

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
        {
            Require(value);
            writer.WriteStringValue(value);
        }

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetString()!;

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
        {
            Require(value);
            writer.WritePropertyName(value);
        }
    }

    private sealed class StrictCharConverter : JsonConverter<char>
    {
        public override char Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var s = reader.GetString();
            return s is { Length: 1 } ? s[0] : throw new JsonException("Expected a one-character string.");
        }

        public override void Write(Utf8JsonWriter writer, char value, JsonSerializerOptions options)
        {
            if (char.IsSurrogate(value))
            {
                throw new ArgumentException("The character is an unpaired surrogate.");
            }
            writer.WriteStringValue(value.ToString());
        }
    }
}
