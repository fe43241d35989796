using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

public sealed class ParsingTests
{
    [Theory]
    [InlineData("engine:/var/lib/agent", "engine", "path", "/var/lib/agent")]
    [InlineData("sqlite:/data/memory.db", "sqlite", "db_path", "/data/memory.db")]
    [InlineData("redis:127.0.0.1:6380", "redis", "connection_string", "127.0.0.1:6380")]
    [InlineData("redis:host=10.0.0.5,port=6380", "redis", "host", "10.0.0.5")]
    [InlineData("v1_sqlite:langswarm_sessions.db", "v1_sqlite", "path", "langswarm_sessions.db")]
    [InlineData("ENGINE:path=/x,durability=none", "engine", "durability", "none")]
    public void Store_specs_name_a_backend_and_its_options(string text, string backend, string key, string value)
    {
        var spec = StoreSpec.Parse(text);

        Assert.Equal(backend, spec.Backend);
        Assert.Equal(value, spec.Settings.GetString(key));
    }

    [Theory]
    [InlineData("mongo:/x")]
    [InlineData("in_memory:somewhere")]
    public void Bad_store_specs_are_usage_errors(string text) =>
        Assert.Throws<CliUsageException>(() => StoreSpec.Parse(text));

    [Fact]
    public void Since_takes_an_iso_time_or_an_age()
    {
        var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        var clock = new FixedClock(now);

        Assert.Equal(now.AddMinutes(-30), TimeArg.Parse("30m", clock));
        Assert.Equal(now.AddDays(-7), TimeArg.Parse("7d", clock));
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero), TimeArg.Parse("2026-11-30T09:00:00+01:00", clock));
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero), TimeArg.Parse("2026-11-30 09:00", clock));
        Assert.Null(TimeArg.Parse(null, clock));
        Assert.Throws<CliUsageException>(() => TimeArg.Parse("last tuesday", clock));
    }

    [Fact]
    public async Task The_reader_refuses_another_format_version_and_ignores_members_it_does_not_know()
    {
        var metadata = new SessionMetadata("s1", "u") { CreatedAt = Conversations.T0, UpdatedAt = Conversations.T0 };
        var message = new Message(MessageRole.User, "hi") { MessageId = "m1", Sequence = 1, TokenCount = 2, Timestamp = Conversations.T0 };
        var text = SessionJsonl.ToText(new PortableSession(metadata, 1, 0, [message], []));
        var extended = text.Replace("\"content\":", "\"future_member\":[1,2],\"content\":", StringComparison.Ordinal);
        var future = text.Replace("\"format\":1", "\"format\":2", StringComparison.Ordinal);

        var read = await ReadAllAsync(extended);
        var refused = await ReadAllAsync(future);

        Assert.Equal(text, SessionJsonl.ToText(read.Single().Record!));
        Assert.Null(refused.Single().Record);
        Assert.Contains("format 2 is not supported", refused.Single().Error, StringComparison.Ordinal);
    }

    private static async Task<List<SessionJsonlEntry>> ReadAllAsync(string text)
    {
        var list = new List<SessionJsonlEntry>();
        await foreach (var e in SessionJsonlReader.ReadAsync(new StringReader(text)))
        {
            list.Add(e);
        }
        return list;
    }
}
