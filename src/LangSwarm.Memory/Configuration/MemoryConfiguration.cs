using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>
/// Which backend to use and with what options: the five configuration patterns of the seed all end here.
/// </summary>
public sealed record MemoryConfiguration
{
    /// <summary>Environment and boolean shortcuts and what they mean.</summary>
    public static readonly IReadOnlyDictionary<string, string> Presets = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["development"] = "in_memory",
        ["testing"] = "sqlite (:memory: unless db_path names a file), else in_memory",
        ["production"] = "engine (default store path), else sqlite (memory.db)",
    };

    /// <summary>Creates a configuration for a backend name.</summary>
    public MemoryConfiguration(string backend, BackendSettings? settings = null)
    {
        if (string.IsNullOrWhiteSpace(backend))
        {
            throw new MemoryConfigurationException("A backend name is required.");
        }
        Backend = backend.Trim();
        Settings = settings ?? new BackendSettings();
    }

    /// <summary>The backend name, a preset (<c>development</c>, <c>testing</c>, <c>production</c>) or a backend.</summary>
    public string Backend { get; init; }

    /// <summary>The backend's options.</summary>
    public BackendSettings Settings { get; init; }

    /// <summary>Pattern 1: <c>true</c> is the development preset.</summary>
    public static MemoryConfiguration FromBool(bool enabled) =>
        enabled ? new MemoryConfiguration("development")
        : throw new MemoryConfigurationException("Memory is disabled (false); there is no configuration to build.");

    /// <summary>Patterns 2 and 3: a preset (<c>development</c>, <c>testing</c>, <c>production</c>) or a backend name.</summary>
    public static MemoryConfiguration FromString(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new MemoryConfigurationException("Memory configuration is empty. Use development, testing, production or a backend name.");
        }
        var v = value.Trim();
        if (v.StartsWith('{'))
        {
            return FromJson(v);
        }
        return new MemoryConfiguration(v);
    }

    /// <summary>Pattern 4: <c>{"backend": "sqlite", "config": {...}}</c> as a dictionary.</summary>
    public static MemoryConfiguration FromDictionary(IReadOnlyDictionary<string, object?> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string? backend = null;
        IEnumerable<KeyValuePair<string, object?>>? options = null;
        foreach (var (k, v) in config)
        {
            switch (k.ToLowerInvariant())
            {
                case "backend":
                    backend = v?.ToString();
                    break;
                case "config":
                case "settings":
                case "options":
                    options = v switch
                    {
                        null => null,
                        IEnumerable<KeyValuePair<string, object?>> d => d,
                        JsonObject o => o.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)),
                        JsonElement { ValueKind: JsonValueKind.Object } e => JsonNode.Parse(e.GetRawText())!.AsObject().Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)),
                        _ => throw new MemoryConfigurationException($"'{k}' must be an object of backend options."),
                    };
                    break;
                default:
                    throw new MemoryConfigurationException($"Unknown configuration key '{k}'. Valid keys: backend, config.");
            }
        }
        if (backend is null)
        {
            throw new MemoryConfigurationException("The configuration has no 'backend' key.");
        }
        return new MemoryConfiguration(backend, new BackendSettings(options?.ToList()));
    }

    /// <summary>Pattern 4 from JSON text.</summary>
    public static MemoryConfiguration FromJson(string json)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject ?? throw new MemoryConfigurationException("Memory configuration JSON must be an object.");
        }
        catch (JsonException ex)
        {
            throw new MemoryConfigurationException($"Memory configuration is not valid JSON: {ex.Message}", ex);
        }
        return FromDictionary(obj.ToDictionary(p => p.Key, p => (object?)p.Value));
    }
}
