using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Tests.Configuration;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("development")]
    [InlineData("testing")]
    [InlineData("production")]
    [InlineData("in_memory")]
    [InlineData("sqlite")]
    [InlineData("  redis  ")]
    public void FromString_keeps_presets_and_backend_names(string value)
    {
        var c = MemoryConfiguration.FromString(value);
        Assert.Equal(value.Trim(), c.Backend);
        Assert.Empty(c.Settings.Keys);
    }

    [Fact]
    public void FromString_reads_json()
    {
        var c = MemoryConfiguration.FromString("""  {"backend":"sqlite","config":{"db_path":"x.db","pool_size":4,"wal":true}}""");
        Assert.Equal("sqlite", c.Backend);
        Assert.Equal("x.db", c.Settings.GetString("DbPath"));
        Assert.Equal(4, c.Settings.GetInt("pool_size", 1));
        Assert.True(c.Settings.GetBool("wal", false));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{not json")]
    [InlineData("{\"config\":{}}")]
    [InlineData("{\"backend\":\"x\",\"config\":5}")]
    public void FromString_rejects_bad_input(string value) =>
        Assert.Throws<MemoryConfigurationException>(() => MemoryConfiguration.FromString(value));

    [Fact]
    public void FromBool()
    {
        Assert.Equal("development", MemoryConfiguration.FromBool(true).Backend);
        Assert.Throws<MemoryConfigurationException>(() => MemoryConfiguration.FromBool(false));
    }

    [Fact]
    public void FromDictionary_with_backend_and_config()
    {
        var c = MemoryConfiguration.FromDictionary(new Dictionary<string, object?>
        {
            ["Backend"] = "redis",
            ["config"] = new Dictionary<string, object?> { ["host"] = "localhost", ["Port"] = 6380 },
        });
        Assert.Equal("redis", c.Backend);
        Assert.Equal("localhost", c.Settings.GetString("host"));
        Assert.Equal(6380, c.Settings.GetInt("port", 6379));
        Assert.Equal(["Port", "host"], c.Settings.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FromDictionary_accepts_json_element_options()
    {
        var e = JsonSerializer.Deserialize<JsonElement>("""{"ttl_seconds":60}""");
        var c = MemoryConfiguration.FromDictionary(new Dictionary<string, object?> { ["backend"] = "redis", ["options"] = e });
        Assert.Equal(60, c.Settings.GetInt("ttl_seconds", 0));
    }

    [Fact]
    public void FromDictionary_unknown_key_lists_valid_keys()
    {
        var ex = Assert.Throws<MemoryConfigurationException>(() => MemoryConfiguration.FromDictionary(new Dictionary<string, object?>
        {
            ["backend"] = "in_memory",
            ["host"] = "x",
        }));
        Assert.Contains("'host'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("backend", ex.Message, StringComparison.Ordinal);
        Assert.Contains("config", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromDictionary_without_backend_fails() =>
        Assert.Throws<MemoryConfigurationException>(() => MemoryConfiguration.FromDictionary(new Dictionary<string, object?> { ["config"] = null }));

    [Fact]
    public void Factory_knows_in_memory_and_its_aliases()
    {
        var f = new MemoryFactory(discover: false);
        Assert.Contains("in_memory", f.GetAvailableBackends());
        Assert.Contains("in_memory", MemoryFactory.Default.GetAvailableBackends());
        foreach (var name in new[] { "in_memory", "memory", "inmemory", "in-memory", "IN_MEMORY", "development" })
        {
            Assert.IsType<InMemoryBackend>(f.CreateBackend(MemoryConfiguration.FromString(name)));
        }
        Assert.True(f.IsAvailable("memory"));
        Assert.False(f.IsAvailable("sqlite"));
    }

    [Fact]
    public void Factory_testing_preset_falls_back_to_in_memory_without_sqlite()
    {
        var f = new MemoryFactory(discover: false);
        Assert.IsType<InMemoryBackend>(f.CreateBackend(MemoryConfiguration.FromString("testing")));
    }

    [Fact]
    public void Factory_production_preset_without_persistent_backends_explains()
    {
        var f = new MemoryFactory(discover: false);
        var ex = Assert.Throws<MemoryConfigurationException>(() => f.CreateBackend(MemoryConfiguration.FromString("production")));
        Assert.Contains("in_memory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_unknown_backend_lists_available_backends()
    {
        var f = new MemoryFactory(discover: false);
        f.RegisterBackend("custom", _ => new InMemoryBackend());
        var ex = Assert.Throws<MemoryConfigurationException>(() => f.CreateBackend(MemoryConfiguration.FromString("cassandra")));
        Assert.Contains("'cassandra'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Available backends: custom, in_memory", ex.Message, StringComparison.Ordinal);
        Assert.Contains("development", ex.Message, StringComparison.Ordinal);
    }

    private sealed class CustomBackend : IMemoryBackend
    {
        private readonly InMemoryBackend _inner = new();

        public string Name => "custom";

        public bool IsConnected => _inner.IsConnected;

        public Task ConnectAsync(CancellationToken cancellationToken = default) => _inner.ConnectAsync(cancellationToken);

        public Task DisconnectAsync(CancellationToken cancellationToken = default) => _inner.DisconnectAsync(cancellationToken);

        public Task<HealthReport> HealthCheckAsync(CancellationToken cancellationToken = default) => _inner.HealthCheckAsync(cancellationToken);

        public Task<IMemorySession> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken = default) => _inner.CreateSessionAsync(metadata, cancellationToken);

        public Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.GetSessionAsync(sessionId, cancellationToken);

        public Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(string? userId = null, SessionStatus? status = null, int limit = 100, int offset = 0, CancellationToken cancellationToken = default) =>
            _inner.ListSessionsAsync(userId, status, limit, offset, cancellationToken);

        public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.DeleteSessionAsync(sessionId, cancellationToken);

        public Task<IMemorySession?> GetSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) => _inner.GetSessionAsync(sessionId, userId, cancellationToken);

        public Task<bool> DeleteSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) => _inner.DeleteSessionAsync(sessionId, userId, cancellationToken);

        public Task<bool> ArchiveSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) => _inner.ArchiveSessionAsync(sessionId, userId, cancellationToken);

        public Task<int> CleanupExpiredSessionsAsync(int maxAgeDays = 30, CancellationToken cancellationToken = default) => _inner.CleanupExpiredSessionsAsync(maxAgeDays, cancellationToken);

        public Task<UsageStats> GetUsageStatsAsync(CancellationToken cancellationToken = default) => _inner.GetUsageStatsAsync(cancellationToken);

        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }

    [Fact]
    public async Task Factory_registers_a_backend_type()
    {
        var f = new MemoryFactory(discover: false);
        f.RegisterBackend<CustomBackend>("custom");
        Assert.Contains("custom", f.GetAvailableBackends());
        var backend = f.CreateBackend(new MemoryConfiguration("custom"));
        Assert.IsType<CustomBackend>(backend);
        await using var manager = await f.CreateManagerAsync(new MemoryConfiguration("custom"));
        Assert.True(manager.Backend.IsConnected);
        var ex = Assert.Throws<MemoryConfigurationException>(() =>
            f.CreateBackend(new MemoryConfiguration("custom", new BackendSettings([new("host", "x")]))));
        Assert.Contains("'host'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_registers_a_delegate_that_sees_the_settings()
    {
        var f = new MemoryFactory(discover: false);
        BackendSettings? seen = null;
        var made = new InMemoryBackend();
        f.RegisterBackend("mine", s =>
        {
            seen = s;
            return made;
        }, "Mine");
        var c = MemoryConfiguration.FromDictionary(new Dictionary<string, object?>
        {
            ["backend"] = "MINE",
            ["config"] = new Dictionary<string, object?> { ["size"] = 3 },
        });
        Assert.Same(made, f.CreateBackend(c));
        Assert.Equal(3, seen!.GetInt("size", 0));
    }

    [Theory]
    [InlineData("")]
    [InlineData("development")]
    [InlineData("Production")]
    public void Factory_refuses_preset_or_empty_names(string name) =>
        Assert.Throws<ArgumentException>(() => new MemoryFactory(discover: false).RegisterBackend(name, _ => new InMemoryBackend()));

    [Fact]
    public void In_memory_rejects_unknown_options_listing_valid_ones()
    {
        var f = new MemoryFactory(discover: false);
        var ex = Assert.Throws<MemoryConfigurationException>(() => f.CreateBackend(new MemoryConfiguration("in_memory", new BackendSettings([new("db_path", "x")]))));
        Assert.Contains("'db_path'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Valid options", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_match_snake_and_pascal_keys()
    {
        var s = new BackendSettings([new("db_path", "a.db"), new("MaxConnections", "8")]);
        Assert.True(s.Contains("DbPath"));
        Assert.True(s.Contains("max_connections"));
        Assert.True(s.Contains("max-connections"));
        Assert.Equal("a.db", s.GetString("DB_PATH"));
        Assert.Equal(8, s.GetInt("max_connections", 1));
        Assert.Null(s.GetString("missing"));
        Assert.Equal("fb", s.GetString("missing", "fb"));
        Assert.Equal(5, s.GetInt("missing", 5));
        s.EnsureOnly("x", "DbPath", "max_connections");
        var ex = Assert.Throws<MemoryConfigurationException>(() => s.EnsureOnly("x", "db_path"));
        Assert.Contains("'MaxConnections'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Valid options: db_path", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData(2.5)]
    [InlineData(true)]
    [InlineData(10_000_000_000L)]
    public void Settings_bad_int_fails(object value)
    {
        var s = new BackendSettings([new("port", value)]);
        var ex = Assert.Throws<MemoryConfigurationException>(() => s.GetInt("port", 1));
        Assert.Contains("'port'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_int_range_and_json_values()
    {
        var s = new BackendSettings([new("port", 70000), new("n", JsonValue.Create(12)), new("t", JsonValue.Create("13")), new("d", 4.0)]);
        Assert.Throws<MemoryConfigurationException>(() => s.GetInt("port", 1, 1, 65535));
        Assert.Equal(12, s.GetInt("n", 0));
        Assert.Equal(13, s.GetInt("t", 0));
        Assert.Equal(4, s.GetInt("d", 0));
        var built = MemoryConfiguration.FromDictionary(new Dictionary<string, object?>
        {
            ["backend"] = "x",
            ["config"] = new JsonObject { ["port"] = 6380, ["tls"] = true, ["mode"] = "Rolling" },
        }).Settings;
        Assert.Equal(6380, built.GetInt("port", 0));
        Assert.True(built.GetBool("tls", false));
        Assert.Equal(SummaryStrategy.Rolling, built.GetEnum("mode", SummaryStrategy.Manual));
        var fromJson = MemoryConfiguration.FromJson("""{"backend":"x","config":{"f":2.5,"i":7}}""").Settings;
        Assert.Equal(7, fromJson.GetInt("i", 0));
        Assert.Throws<MemoryConfigurationException>(() => fromJson.GetInt("f", 0));
    }

    [Theory]
    [InlineData("yes", true)]
    [InlineData("On", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("no", false)]
    [InlineData("0", false)]
    public void Settings_bool_words(string value, bool expected) =>
        Assert.Equal(expected, new BackendSettings([new("flag", value)]).GetBool("flag", !expected));

    [Fact]
    public void Settings_bool_values_and_errors()
    {
        var s = new BackendSettings([new("a", true), new("b", JsonValue.Create(false)), new("c", "maybe"), new("d", 2)]);
        Assert.True(s.GetBool("a", false));
        Assert.False(s.GetBool("b", true));
        Assert.True(s.GetBool("missing", true));
        Assert.Throws<MemoryConfigurationException>(() => s.GetBool("c", false));
        Assert.Throws<MemoryConfigurationException>(() => s.GetBool("d", false));
    }

    [Fact]
    public void Settings_enum_by_name_only()
    {
        var s = new BackendSettings([new("strategy", "rolling"), new("num", "1"), new("bad", "weekly"), new("undefined", "7")]);
        Assert.Equal(SummaryStrategy.Rolling, s.GetEnum("strategy", SummaryStrategy.Periodic));
        Assert.Equal(SummaryStrategy.Manual, s.GetEnum("missing", SummaryStrategy.Manual));
        var ex = Assert.Throws<MemoryConfigurationException>(() => s.GetEnum("bad", SummaryStrategy.Periodic));
        Assert.Contains("Periodic, Rolling, Manual", ex.Message, StringComparison.Ordinal);
        Assert.Throws<MemoryConfigurationException>(() => s.GetEnum("num", SummaryStrategy.Periodic));
        Assert.Throws<MemoryConfigurationException>(() => s.GetEnum("undefined", SummaryStrategy.Periodic));
    }

    [Fact]
    public void Settings_reject_empty_option_names() =>
        Assert.Throws<MemoryConfigurationException>(() => new BackendSettings([new(" ", 1)]));

    [Fact]
    public async Task InitializeMemory_true_connects_lazily()
    {
        var manager = LangSwarmMemory.InitializeMemory(true);
        Assert.NotNull(manager);
        await using (manager)
        {
            Assert.False(manager.Backend.IsConnected);
            var session = await manager.CreateSessionAsync("u1");
            Assert.True(manager.Backend.IsConnected);
            Assert.Equal("u1", session.Metadata.UserId);
        }
    }

    [Fact]
    public void InitializeMemory_false_is_null() => Assert.Null(LangSwarmMemory.InitializeMemory(false));

    [Fact]
    public async Task InitializeMemory_string_dictionary_and_create_manager()
    {
        await using var a = LangSwarmMemory.InitializeMemory("development");
        Assert.Equal("in_memory", a.Backend.Name);
        await using var b = LangSwarmMemory.InitializeMemory(new Dictionary<string, object?> { ["backend"] = "in_memory" });
        Assert.Equal("in_memory", b.Backend.Name);
        await using var c = LangSwarmMemory.CreateMemoryManager("in_memory");
        Assert.IsType<InMemoryBackend>(c.Backend);
        Assert.NotNull(await c.GetOrCreateSessionAsync("u"));
        Assert.Throws<MemoryConfigurationException>(() => LangSwarmMemory.CreateMemoryManager("in_memory", new Dictionary<string, object?> { ["host"] = "x" }));
        Assert.Throws<MemoryConfigurationException>(() => LangSwarmMemory.CreateMemoryManager("nope"));
    }
}

[CollectionDefinition(nameof(GlobalMemoryCollection), DisableParallelization = true)]
public sealed class GlobalMemoryCollection
{
}

[Collection(nameof(GlobalMemoryCollection))]
public sealed class GlobalMemoryTests
{
    [Fact]
    public async Task Global_manager_lifecycle()
    {
        await LangSwarmMemory.ShutdownGlobalMemoryAsync();
        Assert.Null(LangSwarmMemory.TryGetGlobalMemoryManager());
        var ex = Assert.Throws<MemoryConfigurationException>(() => LangSwarmMemory.GetGlobalMemoryManager());
        Assert.Contains("SetupGlobalMemoryAsync", ex.Message, StringComparison.Ordinal);

        var first = await LangSwarmMemory.SetupGlobalMemoryAsync();
        try
        {
            Assert.Same(first, LangSwarmMemory.GetGlobalMemoryManager());
            Assert.True(first.Backend.IsConnected);
            var session = await first.GetOrCreateSessionAsync("u");

            // Replacing the global manager shuts the old one down.
            var second = await LangSwarmMemory.SetupGlobalMemoryAsync("in_memory");
            Assert.Same(second, LangSwarmMemory.GetGlobalMemoryManager());
            Assert.False(first.Backend.IsConnected);
            await Assert.ThrowsAsync<BackendUnavailableException>(() => first.GetSessionAsync(session.SessionId));

            // Setting the same manager again keeps it running.
            Assert.Same(second, await LangSwarmMemory.SetGlobalAsync(second));
            Assert.True(second.Backend.IsConnected);

            await using (var ctx = await MemorySessionContext.OpenAsync(userId: "global-user"))
            {
                await ctx.AddMessageAsync(new Message(MessageRole.User, "hi"));
            }
            Assert.Single(await (await second.GetOrCreateSessionAsync("global-user")).GetMessagesAsync());
            Assert.True(second.Backend.IsConnected);

            await LangSwarmMemory.ShutdownGlobalMemoryAsync();
            Assert.False(second.Backend.IsConnected);
            Assert.Throws<MemoryConfigurationException>(() => LangSwarmMemory.GetGlobalMemoryManager());
            await LangSwarmMemory.ShutdownGlobalMemoryAsync();
        }
        finally
        {
            await LangSwarmMemory.ShutdownGlobalMemoryAsync();
        }
    }

    [Fact]
    public async Task OpenAsync_without_global_manager_fails()
    {
        await LangSwarmMemory.ShutdownGlobalMemoryAsync();
        await Assert.ThrowsAsync<MemoryConfigurationException>(() => MemorySessionContext.OpenAsync(userId: "u"));
    }
}
