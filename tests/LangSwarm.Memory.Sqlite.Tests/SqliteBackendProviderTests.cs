using Xunit;

namespace LangSwarm.Memory.Sqlite.Tests;

/// <summary>Configuration: the provider's options, discovery by the factory, and the presets.</summary>
public sealed class SqliteBackendProviderTests
{
    private static SqliteBackend Create(Dictionary<string, object?> values) =>
        Assert.IsType<SqliteBackend>(new SqliteBackendProvider().Create(new BackendSettings(values)));

    [Fact]
    public void Options_AreMapped()
    {
        var backend = Create(new()
        {
            ["db_path"] = "/data/memory.db",
            ["enable_wal"] = false,
            ["EnableForeignKeys"] = "no",
            ["busy_timeout_ms"] = 250,
            ["synchronous"] = "normal",
            ["pool_size"] = 20,
        });
        var o = backend.Options;
        Assert.Equal("/data/memory.db", o.DbPath);
        Assert.False(o.EnableWal);
        Assert.False(o.EnableForeignKeys);
        Assert.Equal(250, o.BusyTimeoutMs);
        Assert.Equal(SqliteDurability.Normal, o.Durability);
        Assert.Equal("sqlite", backend.Name);
    }

    [Fact]
    public void Defaults_UseMemoryDbWithWalAndFullSync()
    {
        var o = Create([]).Options;
        Assert.Equal("memory.db", o.DbPath);
        Assert.True(o.EnableWal);
        Assert.True(o.EnableForeignKeys);
        Assert.Equal(SqliteDurability.Full, o.Durability);
    }

    [Fact]
    public void UnknownOption_FailsNamingTheValidOnes()
    {
        var ex = Assert.Throws<MemoryConfigurationException>(() => Create(new() { ["db_pth"] = "x.db" }));
        Assert.Contains("db_pth", ex.Message, StringComparison.Ordinal);
        foreach (var valid in new[] { "db_path", "enable_wal", "enable_foreign_keys", "busy_timeout_ms", "synchronous", "pool_size" })
        {
            Assert.Contains(valid, ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("synchronous", "sometimes")]
    [InlineData("busy_timeout_ms", "-1")]
    [InlineData("enable_wal", "perhaps")]
    [InlineData("pool_size", "0")]
    [InlineData("db_path", " ")]
    public void BadValues_FailAsConfigurationErrors(string key, string value) =>
        Assert.Throws<MemoryConfigurationException>(() => Create(new() { [key] = value }));

    [Fact]
    public async Task Factory_DiscoversSqlite_AndTestingPresetIsInMemorySqlite()
    {
        _ = typeof(SqliteBackend);
        var factory = new MemoryFactory();
        Assert.Contains("sqlite", factory.GetAvailableBackends());
        Assert.True(factory.IsAvailable("sqlite3"));

        await using var backend = factory.CreateBackend(MemoryConfiguration.FromString("testing"));
        var sqlite = Assert.IsType<SqliteBackend>(backend);
        Assert.True(sqlite.IsInMemoryDatabase);
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("preset", "u"));
        await s.AddMessageAsync(new Message(MessageRole.User, "hello") { TokenCount = 1 });
        Assert.Equal(1, (await backend.GetUsageStatsAsync()).TotalMessages);
    }

    [Fact]
    public void Factory_BuildsFromTheSeedsDictionaryPattern()
    {
        var config = MemoryConfiguration.FromString("{\"backend\": \"sqlite\", \"config\": {\"db_path\": \"/data/memory.db\", \"enable_wal\": true, \"pool_size\": 20}}");
        var backend = Assert.IsType<SqliteBackend>(new MemoryFactory().CreateBackend(config));
        Assert.Equal("/data/memory.db", backend.Options.DbPath);
        var bad = MemoryConfiguration.FromString("{\"backend\": \"sqlite\", \"config\": {\"path\": \"x.db\"}}");
        Assert.Throws<MemoryConfigurationException>(() => new MemoryFactory().CreateBackend(bad));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TestingPreset_WithOptionsButNoDbPath_WritesNoFile(bool nullDbPath)
    {
        _ = typeof(SqliteBackend);
        var config = new Dictionary<string, object?> { ["enable_wal"] = false, ["busy_timeout_ms"] = 100 };
        if (nullDbPath)
        {
            config["db_path"] = null;
        }
        var defaultFile = Path.GetFullPath(SqliteBackendOptions.DefaultDbPath);
        var existedBefore = File.Exists(defaultFile);
        await using var manager = LangSwarmMemory.InitializeMemory(new Dictionary<string, object?> { ["backend"] = "testing", ["config"] = config });
        var sqlite = Assert.IsType<SqliteBackend>(manager.Backend);
        Assert.True(sqlite.IsInMemoryDatabase);
        Assert.False(sqlite.Options.EnableWal);
        var s = await manager.GetOrCreateSessionAsync("u");
        await s.AddMessageAsync(new Message(MessageRole.User, "hello") { TokenCount = 1 });
        Assert.Equal(SqliteBackendOptions.InMemoryPath, (await manager.Backend.GetUsageStatsAsync()).Extra["db_path"]);
        Assert.Equal(existedBefore, File.Exists(defaultFile));
    }

    [Fact]
    public async Task TestingPreset_WithADbPath_UsesThatFile()
    {
        using var dir = new TempDirectory();
        var file = dir.File("chosen.db");
        await using (var manager = LangSwarmMemory.InitializeMemory(new Dictionary<string, object?> { ["backend"] = "testing", ["config"] = new Dictionary<string, object?> { ["db_path"] = file } }))
        {
            await manager.GetOrCreateSessionAsync("u");
        }
        Assert.True(File.Exists(file));
    }

    [Fact]
    public async Task TestingPreset_ManagerIsHealthyBeforeItsFirstOperation()
    {
        _ = typeof(SqliteBackend);
        await using var manager = LangSwarmMemory.InitializeMemory("testing");
        Assert.Equal(HealthStatus.Healthy, (await manager.Backend.HealthCheckAsync()).Status);
    }
}
