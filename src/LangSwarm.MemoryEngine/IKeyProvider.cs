namespace LangSwarm.MemoryEngine;

/// <summary>
/// Where an encrypted store's keys come from (<see cref="EngineOptions.Encryption"/>). The store asks once, at
/// open: new records and index pages are sealed with <see cref="CurrentKey"/>; data sealed with an earlier key
/// stays readable while that key is in <see cref="PreviousKeys"/>, until <see cref="EngineBackend.RekeyAsync"/>
/// (<c>lsmem vacuum --rekey</c>) has rewritten it under the current one (key rotation).
/// </summary>
public interface IKeyProvider
{
    /// <summary>The key new data is sealed with.</summary>
    EncryptionKey CurrentKey { get; }

    /// <summary>Keys of data not yet rewritten under <see cref="CurrentKey"/>; empty when there was no rotation.</summary>
    IReadOnlyList<EncryptionKey> PreviousKeys { get; }
}

/// <summary>The key providers the engine ships: a key given in code, a passphrase, or environment variables.</summary>
public sealed class KeyProvider : IKeyProvider
{
    /// <summary>The variable <see cref="FromEnvironment"/> reads the current key from by default (and lsmem does).</summary>
    public const string DefaultVariable = "LSMEM_KEY";

    /// <summary>The variable <see cref="FromEnvironment"/> reads earlier keys from by default: keys separated by commas.</summary>
    public const string DefaultPreviousVariable = "LSMEM_PREVIOUS_KEYS";

    private KeyProvider(EncryptionKey current, IReadOnlyList<EncryptionKey> previous)
    {
        CurrentKey = current;
        PreviousKeys = previous;
    }

    /// <inheritdoc />
    public EncryptionKey CurrentKey { get; }

    /// <inheritdoc />
    public IReadOnlyList<EncryptionKey> PreviousKeys { get; }

    /// <summary>A provider of <paramref name="current"/> and, for rotation, the keys before it.</summary>
    public static KeyProvider FromKey(EncryptionKey current, params EncryptionKey[] previous)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(previous);
        return new KeyProvider(current, [.. previous]);
    }

    /// <summary>A provider of the key <see cref="EncryptionKey.FromPassphrase"/> derives (PBKDF2-HMAC-SHA256).</summary>
    public static KeyProvider FromPassphrase(string passphrase, ReadOnlySpan<byte> salt, int iterations = EncryptionKey.DefaultPassphraseIterations) =>
        new(EncryptionKey.FromPassphrase(passphrase, salt, iterations), []);

    /// <summary>
    /// The key in environment variable <paramref name="variable"/> (64 hexadecimal digits or base64), and earlier
    /// keys from <paramref name="previousVariable"/> (comma-separated); null when <paramref name="variable"/> is unset
    /// or empty.
    /// </summary>
    /// <exception cref="ArgumentException">A variable holds something that is not a key (the message names the variable, not its value).</exception>
    public static KeyProvider? FromEnvironment(string variable = DefaultVariable, string previousVariable = DefaultPreviousVariable)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var current = ParseVariable(variable, text);
        var previous = new List<EncryptionKey>();
        foreach (var part in (Environment.GetEnvironmentVariable(previousVariable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            previous.Add(ParseVariable(previousVariable, part));
        }
        return new KeyProvider(current, previous);
    }

    private static EncryptionKey ParseVariable(string variable, string text)
    {
        try
        {
            return EncryptionKey.Parse(text);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"Environment variable {variable}: {ex.Message}", ex);
        }
    }
}
