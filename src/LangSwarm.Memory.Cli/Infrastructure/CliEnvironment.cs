using LangSwarm.MemoryEngine;

namespace LangSwarm.Memory.Cli;

/// <summary>
/// The environment variables an lsmem run reads: the process environment, or the ones a test gives
/// <see cref="LsmemApp.RunAsync"/> (so tests never set process-wide variables). An engine store opens with the key in
/// <c>LSMEM_KEY</c> (and, during a rotation, the earlier keys in <c>LSMEM_PREVIOUS_KEYS</c>) when it is set.
/// </summary>
internal static class CliEnvironment
{
    private static readonly AsyncLocal<Func<string, string?>?> Override = new();

    /// <summary>Reads a variable (null: not set).</summary>
    public static string? Get(string name) => (Override.Value ?? Environment.GetEnvironmentVariable)(name);

    /// <summary>True when <c>LSMEM_KEY</c> holds something.</summary>
    public static bool HasKey => !string.IsNullOrWhiteSpace(Get(KeyProvider.DefaultVariable));

    /// <summary>Makes this async flow (one run) read its variables from <paramref name="environment"/> (null: the process's).</summary>
    public static void Use(Func<string, string?>? environment) => Override.Value = environment;

    /// <summary>
    /// An engine store's settings with the key settings for <c>LSMEM_KEY</c> and <c>LSMEM_PREVIOUS_KEYS</c> added when
    /// <c>LSMEM_KEY</c> is set and the store spec names no encryption setting of its own.
    /// </summary>
    public static BackendSettings WithKeys(BackendSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!HasKey || settings.Keys.Any(k => k.StartsWith("encryption", StringComparison.OrdinalIgnoreCase)))
        {
            return settings;
        }
        return settings.With("encryption_key_env", KeyProvider.DefaultVariable).With("encryption_previous_keys_env", KeyProvider.DefaultPreviousVariable);
    }

}
