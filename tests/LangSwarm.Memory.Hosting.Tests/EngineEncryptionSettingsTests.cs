using LangSwarm.MemoryEngine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>
/// The engine's encryption settings (<c>encryption_key_env</c>, <c>encryption_previous_keys_env</c>,
/// <c>encryption_passphrase_env</c>, <c>encryption_salt</c>, <c>encryption_iterations</c>) through
/// <see cref="EngineBackendProvider"/> and through host configuration. The provider tests read variables through
/// the provider's environment function; the host tests set process variables whose names are unique to the test
/// (so tests running beside them never see them) and remove them afterwards.
/// </summary>
public sealed class EngineEncryptionSettingsTests
{
    private const string Secret = "correct horse battery staple";

    private static readonly EncryptionKey KeyA = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static readonly EncryptionKey KeyB = new(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());

    private static readonly string HexA = Convert.ToHexString(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static readonly string Base64B = Convert.ToBase64String(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());

    private const string Salt = "00112233445566778899aabbccddeeff";

    private static EngineBackend Create(Dictionary<string, string?> env, params (string Key, object? Value)[] settings) =>
        (EngineBackend)new EngineBackendProvider(name => env.GetValueOrDefault(name)).Create(
            new BackendSettings(settings.Select(s => new KeyValuePair<string, object?>(s.Key, s.Value)).Prepend(new("path", Path.GetTempPath()))));

    private static MemoryConfigurationException Fails(Dictionary<string, string?> env, params (string Key, object? Value)[] settings) =>
        Assert.Throws<MemoryConfigurationException>(() => Create(env, settings));

    [Fact]
    public async Task Without_encryption_settings_the_store_is_not_encrypted()
    {
        await using var backend = Create([]);
        Assert.Null(backend.Options.Encryption);
    }

    [Fact]
    public async Task Key_comes_from_the_named_variable_and_previous_keys_from_theirs()
    {
        await using var backend = Create(
            new() { ["APP_KEY"] = HexA, ["APP_OLD_KEYS"] = $" {Base64B} , {HexA}," },
            ("encryption_key_env", "APP_KEY"),
            ("encryption_previous_keys_env", "APP_OLD_KEYS"));
        var keys = backend.Options.Encryption!;
        Assert.Equal(KeyA.Id, keys.CurrentKey.Id);
        Assert.Equal([KeyB.Id, KeyA.Id], keys.PreviousKeys.Select(k => k.Id));
    }

    [Fact]
    public async Task Previous_keys_variable_that_is_unset_means_no_previous_keys()
    {
        await using var backend = Create(new() { ["APP_KEY"] = Base64B }, ("encryption_key_env", "APP_KEY"), ("EncryptionPreviousKeysEnv", "APP_OLD_KEYS"));
        Assert.Equal(KeyB.Id, backend.Options.Encryption!.CurrentKey.Id);
        Assert.Empty(backend.Options.Encryption.PreviousKeys);
    }

    [Fact]
    public async Task Passphrase_with_salt_and_iterations_derives_the_key()
    {
        await using var backend = Create(
            new() { ["APP_PASSPHRASE"] = Secret },
            ("encryption_passphrase_env", "APP_PASSPHRASE"),
            ("encryption_salt", Salt.ToUpperInvariant()),
            ("encryption_iterations", 100_000));
        Assert.Equal(EncryptionKey.FromPassphrase(Secret, Convert.FromHexString(Salt), 100_000).Id, backend.Options.Encryption!.CurrentKey.Id);
    }

    [Theory]
    [InlineData("encryption_key_env", "APP_KEY")]
    [InlineData("encryption_passphrase_env", "APP_PASSPHRASE")]
    public void A_named_variable_that_is_unset_or_empty_is_an_error_not_an_unencrypted_store(string option, string variable)
    {
        foreach (var value in (string?[])[null, "", "   "])
        {
            (string, object?)[] passphraseSettings = option == "encryption_passphrase_env" ? [("encryption_salt", Salt), ("encryption_iterations", 100_000)] : [];
            var ex = Fails(new() { [variable] = value }, [(option, variable), .. passphraseSettings]);
            Assert.Contains($"'{option}'", ex.Message, StringComparison.Ordinal);
            Assert.Contains(variable, ex.Message, StringComparison.Ordinal);
            Assert.Contains("not set", ex.Message, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "key variable holding no key", "key=APP_SECRET", "Environment variable APP_SECRET (option 'encryption_key_env')" },
        { "key variable holding 64 non-hex characters", "key=APP_SECRET64", "Environment variable APP_SECRET64 (option 'encryption_key_env')" },
        { "previous keys holding no key", "key=APP_KEY;previous=APP_SECRET", "Environment variable APP_SECRET (option 'encryption_previous_keys_env')" },
        { "key and passphrase both", "key=APP_KEY;passphrase=APP_SECRET;salt=" + Salt, "exclude each other" },
        { "previous keys without a current key", "previous=APP_KEY", "'encryption_previous_keys_env' goes with" },
        { "salt without a passphrase", "key=APP_KEY;salt=" + Salt, "'encryption_salt' goes with 'encryption_passphrase_env'" },
        { "iterations without a passphrase", "iterations=200000", "'encryption_iterations' goes with 'encryption_passphrase_env'" },
        { "passphrase without a salt", "passphrase=APP_SECRET", "needs 'encryption_salt'" },
        { "salt that is not hexadecimal", "passphrase=APP_SECRET;salt=not-hex-at-all", "'encryption_salt' must be hexadecimal" },
        { "salt of 15 bytes", "passphrase=APP_SECRET;salt=" + Salt[..30], "'encryption_salt' holds 15 bytes; it needs at least 16" },
        { "too few iterations", "passphrase=APP_SECRET;salt=" + Salt + ";iterations=99999", "'encryption_iterations' must be between 100000" },
        { "empty variable name", "key= ", "'encryption_key_env' needs the name of an environment variable" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Bad_encryption_settings_fail_with_a_message_that_names_the_setting_and_never_the_secret(string why, string spec, string expected)
    {
        var names = new Dictionary<string, string> { ["key"] = "encryption_key_env", ["previous"] = "encryption_previous_keys_env", ["passphrase"] = "encryption_passphrase_env", ["salt"] = "encryption_salt", ["iterations"] = "encryption_iterations" };
        var settings = spec.Split(';').Select(p => p.Split('=')).Select(p => (names[p[0]], (object?)p[1])).ToArray();
        var env = new Dictionary<string, string?> { ["APP_KEY"] = HexA, ["APP_SECRET"] = Secret, ["APP_SECRET64"] = new string('z', 64) };
        var ex = Fails(env, settings);
        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal), $"{why}: {ex.Message}");
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(HexA, e.Message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("zzzz", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_store_made_from_the_settings_is_sealed_and_reopens_only_with_its_key()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string?> { ["APP_PASSPHRASE"] = Secret };
        (string, object?)[] settings = [("path", dir.Path), ("encryption_passphrase_env", "APP_PASSPHRASE"), ("encryption_salt", Salt), ("encryption_iterations", 100_000)];
        await using (var backend = Create(env, settings))
        {
            await backend.ConnectAsync(Ct.Token);
            var session = await backend.CreateSessionAsync(new SessionMetadata("s1", "u1"), Ct.Token);
            await session.AddMessageAsync(new Message(MessageRole.User, "the plaintext marker"), Ct.Token);
        }
        await using (var plain = new EngineBackend(dir.Path))
        {
            await Assert.ThrowsAsync<EncryptionKeyException>(() => plain.ConnectAsync(Ct.Token));
        }
        await using (var again = Create(env, settings))
        {
            await again.ConnectAsync(Ct.Token);
            var session = await again.GetSessionAsync("s1", Ct.Token);
            Assert.Equal("the plaintext marker", Assert.Single(await session!.GetMessagesAsync(cancellationToken: Ct.Token)).Content);
        }
        Assert.DoesNotContain(
            Directory.EnumerateFiles(dir.Path, "*", SearchOption.AllDirectories),
            f => File.ReadAllText(f, System.Text.Encoding.Latin1).Contains("plaintext marker", StringComparison.Ordinal));
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLangSwarmMemory(builder.Configuration.GetSection("LangSwarm:Memory"));
        return builder.Build();
    }

    /// <summary>A process variable name no other test uses.</summary>
    private static string UniqueVariable() => "LSMEM_TEST_KEY_" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Host_options_pass_the_encryption_settings_to_the_engine()
    {
        using var dir = new TempDir();
        var variable = UniqueVariable();
        Environment.SetEnvironmentVariable(variable, HexA);
        try
        {
            using (var host = BuildHost(new()
            {
                ["LangSwarm:Memory:Backend"] = "engine",
                ["LangSwarm:Memory:Options:path"] = dir.Path,
                ["LangSwarm:Memory:Options:encryption_key_env"] = variable,
            }))
            {
                await host.StartAsync(Ct.Token);
                var backend = (EngineBackend)host.Services.GetRequiredService<IMemoryBackend>();
                Assert.Equal(KeyA.Id, backend.Options.Encryption!.CurrentKey.Id);
                var session = await host.Services.GetRequiredService<IMemoryManager>().CreateSessionAsync("u1", "s1", cancellationToken: Ct.Token);
                await session.AddMessageAsync(new Message(MessageRole.User, "hello"), Ct.Token);
                await host.StopAsync(Ct.Token);
            }
            await using (var plain = new EngineBackend(dir.Path))
            {
                var ex = await Assert.ThrowsAsync<EncryptionKeyException>(() => plain.ConnectAsync(Ct.Token));
                Assert.Equal(KeyA.Id, ex.KeyId);
            }
            await using var keyed = new EngineBackend(new EngineOptions { Path = dir.Path, Encryption = KeyProvider.FromKey(KeyA) });
            await keyed.ConnectAsync(Ct.Token);
            Assert.Equal("hello", Assert.Single(await (await keyed.GetSessionAsync("s1", Ct.Token))!.GetMessagesAsync(cancellationToken: Ct.Token)).Content);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task Host_start_stops_when_the_key_variable_is_unset_naming_setting_and_variable()
    {
        using var dir = new TempDir();
        var variable = UniqueVariable();
        using var host = BuildHost(new()
        {
            ["LangSwarm:Memory:Backend"] = "engine",
            ["LangSwarm:Memory:Options:path"] = dir.Path,
            ["LangSwarm:Memory:Options:EncryptionKeyEnv"] = variable,
        });
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct.Token));
        Assert.Contains($"'encryption_key_env' names environment variable {variable}, which is not set", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }
}
