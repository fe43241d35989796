namespace LangSwarm.Memory.Cli;

/// <summary>
/// A store named on the command line: a backend and its options. Written <c>BACKEND:LOCATION</c>
/// (<c>engine:/var/lib/agent/memory</c>, <c>sqlite:/data/memory.db</c>, <c>redis:127.0.0.1:6379</c>,
/// <c>v1_sqlite:langswarm_sessions.db</c>, <c>in_memory</c>) or <c>BACKEND:KEY=VALUE,KEY=VALUE</c> with the
/// backend's option names (<c>engine:path=/x,durability=none</c>).
/// </summary>
internal sealed record StoreSpec(string Backend, BackendSettings Settings, string Display)
{
    /// <summary>The source name of a Python LangSwarm V1 SQLite session store (migration source only).</summary>
    public const string V1Sqlite = "v1_sqlite";

    /// <summary>The option a bare location sets, per backend.</summary>
    private static readonly Dictionary<string, string> LocationKey = new(StringComparer.Ordinal)
    {
        ["engine"] = "path",
        ["sqlite"] = "db_path",
        ["redis"] = "connection_string",
        [V1Sqlite] = "path",
    };

    /// <summary>The location option's value (a path or a connection string), if any.</summary>
    public string? Location => LocationKey.TryGetValue(Backend, out var key) ? Settings.GetString(key) : null;

    /// <summary>Parses <c>BACKEND[:OPTIONS]</c>.</summary>
    /// <exception cref="CliUsageException">The backend is unknown or the options are malformed.</exception>
    public static StoreSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var backend = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        var rest = colon < 0 ? string.Empty : text[(colon + 1)..];
        if (backend != V1Sqlite && !MemoryFactory.Default.IsAvailable(backend))
        {
            throw new CliUsageException($"unknown backend '{backend}' in '{text}'. Valid: {string.Join(", ", MemoryFactory.Default.GetAvailableBackends().Append(V1Sqlite))}.");
        }
        var values = new List<KeyValuePair<string, object?>>();
        if (rest.Length > 0)
        {
            if (IsKeyValueList(rest))
            {
                foreach (var pair in rest.Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    values.Add(new(pair[..eq].Trim(), pair[(eq + 1)..].Trim()));
                }
            }
            else if (LocationKey.TryGetValue(backend, out var key))
            {
                values.Add(new(key, rest));
            }
            else
            {
                throw new CliUsageException($"backend '{backend}' takes no location; give options as KEY=VALUE,KEY=VALUE (was '{rest}').");
            }
        }
        return new StoreSpec(backend, new BackendSettings(values), text);
    }

    /// <summary>
    /// The store the <c>--backend</c> and <c>--store</c> options name: a <c>BACKEND:OPTIONS</c> spec in
    /// <c>--store</c> when <c>--backend</c> is not given, else the backend with its default location.
    /// </summary>
    public static StoreSpec FromOptions(string? backend, string? store)
    {
        if (backend is null && store is not null && LooksLikeSpec(store))
        {
            return Parse(store);
        }
        var config = StoreOptions.Resolve(backend, store);
        if (!MemoryFactory.Default.IsAvailable(config.Backend))
        {
            throw new CliUsageException($"unknown backend '{config.Backend}'. Valid: {string.Join(", ", MemoryFactory.Default.GetAvailableBackends())}.");
        }
        var display = config.Settings.GetString("path") ?? config.Settings.GetString("db_path");
        return new StoreSpec(config.Backend.ToLowerInvariant(), config.Settings, display is null ? config.Backend : $"{config.Backend}:{display}");
    }

    private static bool LooksLikeSpec(string store)
    {
        var colon = store.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 1)
        {
            return false; // a Windows drive letter or no prefix
        }
        var name = store[..colon].ToLowerInvariant();
        return name == V1Sqlite || MemoryFactory.Default.IsAvailable(name);
    }

    private static bool IsKeyValueList(string rest)
    {
        var eq = rest.IndexOf('=', StringComparison.Ordinal);
        return eq > 0 && rest[..eq].All(c => char.IsAsciiLetterLower(c) || c == '_');
    }
}
