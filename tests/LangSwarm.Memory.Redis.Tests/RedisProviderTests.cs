using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>Configuration through the provider and the factory.</summary>
public sealed class RedisProviderTests
{
    [Fact]
    public void UnknownOption_FailsListingTheValidOnes()
    {
        var settings = new BackendSettings([new("host", "localhost"), new("db_path", "x.db")]);
        var ex = Assert.Throws<MemoryConfigurationException>(() => new RedisBackendProvider().Create(settings));
        Assert.Contains("'db_path'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("host, port, db, password, pool_size, ttl_seconds, key_prefix, connection_string, ssl, use_tls", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_MapFromSettings_WithTheSeedDefaults()
    {
        var provider = new RedisBackendProvider();
        var defaults = (RedisBackend)provider.Create(new BackendSettings());
        Assert.Equal("localhost", defaults.Options.Host);
        Assert.Equal(6379, defaults.Options.Port);
        Assert.Equal(86400, defaults.Options.TtlSeconds);
        Assert.Equal("langswarm:memory", defaults.Options.KeyPrefix);
        Assert.Equal(10, defaults.Options.PoolSize);

        var b = (RedisBackend)provider.Create(new BackendSettings(new Dictionary<string, object?>
        {
            ["host"] = "redis.example.com",
            ["Port"] = "6380",
            ["db"] = 3,
            ["password"] = "secret",
            ["pool_size"] = 20,
            ["ttl_seconds"] = 0,
            ["key_prefix"] = "app:mem",
            ["ssl"] = "true",
        }));
        Assert.Equal("redis.example.com", b.Options.Host);
        Assert.Equal(6380, b.Options.Port);
        Assert.Equal(3, b.Options.Db);
        Assert.Equal("secret", b.Options.Password);
        Assert.Equal(20, b.Options.PoolSize);
        Assert.Equal(0, b.Options.TtlSeconds);
        Assert.Equal("app:mem", b.Options.KeyPrefix);
        Assert.True(b.Options.UseTls);
        Assert.Equal("redis.example.com:6380", b.Endpoint);

        var cs = (RedisBackend)provider.Create(new BackendSettings([new("connection_string", "cache.local:7000,password=pw"), new("use_tls", true)]));
        Assert.Equal("cache.local:7000", cs.Endpoint);
        Assert.True(cs.Options.UseTls);
    }

    [Fact]
    public void BadValues_FailAsConfigurationErrors()
    {
        var provider = new RedisBackendProvider();
        Assert.Throws<MemoryConfigurationException>(() => provider.Create(new BackendSettings([new("port", 70000)])));
        Assert.Throws<MemoryConfigurationException>(() => provider.Create(new BackendSettings([new("ttl_seconds", -1)])));
        Assert.Throws<MemoryConfigurationException>(() => provider.Create(new BackendSettings([new("pool_size", 0)])));
        Assert.Throws<MemoryConfigurationException>(() => provider.Create(new BackendSettings([new("key_prefix", "a{b}")])));
        Assert.Throws<MemoryConfigurationException>(() => provider.Create(new BackendSettings([new("ssl", "maybe")])));
    }

    [Fact]
    public void Factory_ListsRedis_AndCreatesIt()
    {
        var factory = new MemoryFactory();
        Assert.Contains("redis", factory.GetAvailableBackends());
        var backend = factory.CreateBackend(new MemoryConfiguration("redis", new BackendSettings([new("port", 6390), new("key_prefix", "factory")])));
        var redis = Assert.IsType<RedisBackend>(backend);
        Assert.Equal(6390, redis.Options.Port);
        Assert.Equal("redis", redis.Name);
    }

    [Fact]
    public void TtlDefault_IsTheSame_FromTheProviderAndFromOptions()
    {
        var fromProvider = (RedisBackend)new RedisBackendProvider().Create(new BackendSettings());
        var fromOptions = new RedisBackend(new RedisBackendOptions());
        var fromNothing = new RedisBackend();
        Assert.Equal(RedisBackendProvider.DefaultTtlSeconds, fromProvider.Options.TtlSeconds);
        Assert.Equal(fromProvider.Options.TtlSeconds, fromOptions.Options.TtlSeconds);
        Assert.Equal(fromProvider.Options.TtlSeconds, fromNothing.Options.TtlSeconds);
        Assert.Equal(RedisBackendOptions.DefaultTtlSeconds, new RedisBackendOptions().TtlSeconds);
    }
}
