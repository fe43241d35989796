using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine;

/// <summary>Makes <see cref="EngineBackend"/>s from configuration (<c>path</c>, <c>durability</c>, ...).</summary>
public sealed class EngineBackendProvider : IMemoryBackendProvider
{
    /// <summary>The settings that turn encryption at rest on: where the key (or a passphrase) comes from, never the secret itself.</summary>
    private static readonly string[] EncryptionOptions = ["encryption_key_env", "encryption_previous_keys_env", "encryption_passphrase_env", "encryption_salt", "encryption_iterations"];

    private static readonly string[] Valid = ["path", "durability", "batched_interval_ms", "segment_max_bytes", "checkpoint_log_bytes", "checkpoint_records", "index_cache_mb", "auto_vacuum_dead_percent", "auto_vacuum_interval_ms", "auto_vacuum_idle_ms", "max_loaded_sessions", "session_cache_mb", "pack_below_kb", "pack_idle_minutes", "read_only", "permissions", .. EncryptionOptions, .. RetentionPolicy.OptionNames];

    private readonly Func<string, string?> _environment;

    /// <summary>A provider that reads the environment variables the encryption settings name from the process environment.</summary>
    public EngineBackendProvider()
        : this(Environment.GetEnvironmentVariable)
    {
    }

    /// <summary>
    /// A provider that reads the variables the encryption settings name (<c>encryption_key_env</c>,
    /// <c>encryption_previous_keys_env</c>, <c>encryption_passphrase_env</c>) through <paramref name="environment"/>
    /// instead of the process environment: a host's own secret source, or a test's.
    /// </summary>
    /// <param name="environment">Returns a variable's value, or null when it is not set.</param>
    public EngineBackendProvider(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        _environment = environment;
    }

    /// <inheritdoc />
    public string Name => EngineBackend.BackendName;

    /// <inheritdoc />
    public IReadOnlyCollection<string> Aliases => ["memory_engine", "lsmem"];

    /// <inheritdoc />
    public string Description => "The embedded log-structured engine: checksummed per-session segments and a copy-on-write B+tree index, crash-safe, no server.";

    /// <summary>The default store directory: <c>$LSMEM_STORE</c>, else the user's local data folder.</summary>
    public static string DefaultPath() =>
        Environment.GetEnvironmentVariable("LSMEM_STORE") is { Length: > 0 } env
            ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "langswarm", "memory");

    /// <inheritdoc />
    public IMemoryBackend Create(BackendSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.EnsureOnly(Name, Valid);
        TimeSpan? idle = settings.Contains("auto_vacuum_idle_ms") ? TimeSpan.FromMilliseconds(settings.GetInt("auto_vacuum_idle_ms", 60_000, 1, int.MaxValue)) : null;
        // 0 turns the fixed interval off, which only makes sense when the idle trigger is there instead.
        var interval = settings.GetInt("auto_vacuum_interval_ms", 60_000, idle is null ? 10 : 0, int.MaxValue);
        return new EngineBackend(new EngineOptions
        {
            Path = settings.GetString("path") ?? DefaultPath(),
            Durability = settings.GetEnum("durability", DurabilityMode.Strict),
            Permissions = settings.GetEnum("permissions", PermissionCheck.Refuse),
            BatchedInterval = TimeSpan.FromMilliseconds(settings.GetInt("batched_interval_ms", 200, 1, 60_000)),
            SegmentMaxBytes = settings.GetInt("segment_max_bytes", 8 * 1024 * 1024, 64 * 1024, 1 << 30),
            CheckpointLogBytes = settings.GetInt("checkpoint_log_bytes", 64 * 1024 * 1024, 64 * 1024, int.MaxValue),
            CheckpointRecords = settings.GetInt("checkpoint_records", 1024 * 1024, 1_024, int.MaxValue),
            IndexCacheBytes = (long)settings.GetInt("index_cache_mb", 4, 0, 1 << 20) << 20,
            AutoVacuumDeadFraction = settings.Contains("auto_vacuum_dead_percent") ? settings.GetInt("auto_vacuum_dead_percent", 25, 0, 100) / 100.0 : null,
            AutoVacuumInterval = interval == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(interval),
            AutoVacuumWhenIdleFor = idle,
            MaxLoadedSessions = settings.GetInt("max_loaded_sessions", 10_000, 0, int.MaxValue),
            SessionCacheBytes = (long)settings.GetInt("session_cache_mb", 16, 0, 1 << 20) << 20,
            PackSessionsBelowBytes = (long)settings.GetInt("pack_below_kb", 64, 0, 1 << 20) << 10,
            PackSessionsIdleFor = TimeSpan.FromMinutes(settings.GetInt("pack_idle_minutes", 10, 0, int.MaxValue)),
            ReadOnly = settings.GetBool("read_only", false),
            Encryption = Keys(settings, _environment),
        })
        {
            Retention = RetentionPolicy.FromSettings(settings),
        };
    }

    /// <summary>
    /// The key provider the encryption settings describe, or null when none is given: the current key from the
    /// variable <c>encryption_key_env</c> names, or derived (PBKDF2) from the passphrase in the variable
    /// <c>encryption_passphrase_env</c> names with <c>encryption_salt</c> (hexadecimal, at least 16 bytes) and
    /// <c>encryption_iterations</c>; earlier keys from the variable <c>encryption_previous_keys_env</c> names
    /// (comma-separated; unset: none). A named variable that is unset is an error, never a store left unencrypted.
    /// Messages name settings and variables, never what a variable holds.
    /// </summary>
    private static KeyProvider? Keys(BackendSettings settings, Func<string, string?> environment)
    {
        var keyVariable = VariableName(settings, "encryption_key_env");
        var passphraseVariable = VariableName(settings, "encryption_passphrase_env");
        var previousVariable = VariableName(settings, "encryption_previous_keys_env");
        if (keyVariable is not null && passphraseVariable is not null)
        {
            throw new MemoryConfigurationException("Options 'encryption_key_env' and 'encryption_passphrase_env' exclude each other: the store's key comes from one of them.");
        }
        if (passphraseVariable is null)
        {
            foreach (var option in (string[])["encryption_salt", "encryption_iterations"])
            {
                if (settings.Contains(option))
                {
                    throw new MemoryConfigurationException($"Option '{option}' goes with 'encryption_passphrase_env', which is not set.");
                }
            }
        }
        if (keyVariable is null && passphraseVariable is null)
        {
            return previousVariable is null
                ? null
                : throw new MemoryConfigurationException("Option 'encryption_previous_keys_env' goes with 'encryption_key_env' or 'encryption_passphrase_env' (the current key), and neither is set.");
        }
        var previous = new List<EncryptionKey>();
        if (previousVariable is not null)
        {
            foreach (var part in (environment(previousVariable) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                previous.Add(ParseKey(part, previousVariable, "encryption_previous_keys_env", "each of its comma-separated keys"));
            }
        }
        if (keyVariable is not null)
        {
            return KeyProvider.FromKey(ParseKey(Required(environment, keyVariable, "encryption_key_env", "the key"), keyVariable, "encryption_key_env", "it"), [.. previous]);
        }
        var passphrase = Required(environment, passphraseVariable!, "encryption_passphrase_env", "the passphrase");
        var salt = Salt(settings);
        var iterations = settings.GetInt("encryption_iterations", EncryptionKey.DefaultPassphraseIterations, 100_000, int.MaxValue);
        return KeyProvider.FromKey(EncryptionKey.FromPassphrase(passphrase, salt, iterations), [.. previous]);
    }

    private static string? VariableName(BackendSettings settings, string option)
    {
        if (!settings.Contains(option))
        {
            return null;
        }
        var name = settings.GetString(option);
        return string.IsNullOrWhiteSpace(name) || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal)
            ? throw new MemoryConfigurationException($"Option '{option}' needs the name of an environment variable.")
            : name.Trim();
    }

    private static string Required(Func<string, string?> environment, string variable, string option, string what)
    {
        var value = environment(variable);
        return string.IsNullOrWhiteSpace(value)
            ? throw new MemoryConfigurationException($"Option '{option}' names environment variable {variable}, which is not set or empty; set it to {what}. (The store is not opened unencrypted instead.)")
            : value;
    }

    private static EncryptionKey ParseKey(string text, string variable, string option, string which)
    {
        try
        {
            return EncryptionKey.Parse(text);
        }
        catch (ArgumentException)
        {
            // The text is a secret: the message (and no inner exception) names the variable and the expected form, never the value or its length.
            throw new MemoryConfigurationException($"Environment variable {variable} (option '{option}'): {which} must be {2 * EncryptionKey.Size} hexadecimal digits or the base64 of {EncryptionKey.Size} bytes.");
        }
    }

    private static byte[] Salt(BackendSettings settings)
    {
        var text = settings.GetString("encryption_salt")?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            throw new MemoryConfigurationException($"Option 'encryption_passphrase_env' needs 'encryption_salt': at least {EncryptionKey.MinSaltBytes} random bytes in hexadecimal ({2 * EncryptionKey.MinSaltBytes} digits or more), the same for the store's life.");
        }
        byte[] salt;
        try
        {
            salt = Convert.FromHexString(text);
        }
        catch (FormatException ex)
        {
            throw new MemoryConfigurationException($"Option 'encryption_salt' must be hexadecimal (an even number of digits 0-9, a-f; {text.Length} characters given).", ex);
        }
        return salt.Length >= EncryptionKey.MinSaltBytes
            ? salt
            : throw new MemoryConfigurationException($"Option 'encryption_salt' holds {salt.Length} bytes; it needs at least {EncryptionKey.MinSaltBytes} ({2 * EncryptionKey.MinSaltBytes} hexadecimal digits).");
    }
}
