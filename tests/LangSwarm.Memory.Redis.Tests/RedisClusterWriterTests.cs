using System.Collections.Concurrent;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>
/// Writes on a real Redis Cluster: keys spread over the primaries, a primary failing over while messages are
/// added, and two backend instances (two processes' worth of connections) writing one session at once.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterWriterTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();
    private readonly List<RedisBackend> _backends = [];

    [Fact]
    public async Task Sessions_AndIndexShards_SpreadOverEveryPrimary()
    {
        var b = await OpenAsync();
        for (var i = 0; i < 24; i++)
        {
            var s = await b.CreateSessionAsync(new SessionMetadata($"spread-{i}", $"user-{i % 3}"));
            await s.AddMessageAsync(new Message(MessageRole.User, "hello") { TokenCount = 1 });
        }
        // Which primary owns each key, by the cluster's own slot map (roles may have moved in a failover test).
        var config = (await cluster.Admin.GetServers().First(s => s.IsConnected).ClusterNodesAsync())!;
        var owners = new HashSet<string>(StringComparer.Ordinal);
        foreach (var server in cluster.Admin.GetServers().Where(s => s.IsConnected))
        {
            await foreach (var key in server.KeysAsync(pattern: _prefix + ":*"))
            {
                owners.Add(config.GetBySlot(key)!.NodeId);
            }
        }
        Assert.Equal(3, owners.Count);
        Assert.Equal(24, (await b.ListSessionsAsync()).Count);
        Assert.Equal(8, (await b.ListSessionsAsync(userId: "user-1")).Count);
    }

    [Fact]
    public async Task Failover_DuringAdds_LosesNoAcknowledgedMessage()
    {
        var b = await OpenAsync();
        var session = await b.CreateSessionAsync(new SessionMetadata("failover", "u")
        {
            SummaryStrategy = SummaryStrategy.Manual,
            MaxMessages = 1_000_000,
            MaxTokens = 100_000_000,
        });
        var acked = new ConcurrentQueue<string>();
        var refused = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var text = "m" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                try
                {
                    await session.AddMessageAsync(new Message(MessageRole.User, text) { TokenCount = 1 });
                    acked.Enqueue(text);
                }
                catch (BackendUnavailableException)
                {
                    // Refused while the primary changes: not acknowledged, so not owed.
                    Interlocked.Increment(ref refused);
                    await Task.Delay(20);
                }
            }
        });
        await WaitForAsync(() => acked.Count >= 100);
        await cluster.FailoverAsync(new RedisKeys(_prefix).Meta("failover"));
        var atFailover = acked.Count;
        await WaitForAsync(() => acked.Count >= atFailover + 100);
        await stop.CancelAsync();
        await writer;

        var stored = await session.GetMessagesAsync();
        var contents = stored.Select(m => m.Content).ToHashSet(StringComparer.Ordinal);
        Assert.All(acked, text => Assert.Contains(text, contents));
        Assert.Equal(stored.Count, stored.Select(m => m.Sequence).Distinct().Count());
        Assert.True(stored.Zip(stored.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.True(refused < acked.Count, $"{refused} adds refused, {acked.Count} acknowledged");
    }

    [Fact]
    public async Task TwoBackends_WritingOneSession_LoseNoMessageAndNoMetadataUpdate()
    {
        const int Rounds = 40;
        var one = await OpenAsync();
        var two = await OpenAsync();
        var a = await one.CreateSessionAsync(new SessionMetadata("shared", "u")
        {
            SummaryStrategy = SummaryStrategy.Manual,
            MaxMessages = 100_000,
            MaxTokens = 10_000_000,
        });
        var b = (await two.GetSessionAsync("shared"))!;
        async Task WriteAsync(IMemorySession s, string who)
        {
            for (var i = 0; i < Rounds; i++)
            {
                var key = $"{who}{i}";
                await s.AddMessageAsync(new Message(MessageRole.User, key) { TokenCount = 1 });
                await s.UpdateMetadataAsync(new Dictionary<string, object?> { [key] = i });
            }
        }

        await Task.WhenAll(Task.Run(() => WriteAsync(a, "a")), Task.Run(() => WriteAsync(b, "b")));

        var check = await OpenAsync();
        var stored = (await check.GetSessionAsync("shared"))!;
        var messages = await stored.GetMessagesAsync();
        Assert.Equal(2 * Rounds, messages.Count);
        Assert.Equal(Enumerable.Range(1, 2 * Rounds).Select(i => (long)i), messages.Select(m => m.Sequence));
        var meta = stored.Metadata.Metadata;
        for (var i = 0; i < Rounds; i++)
        {
            Assert.Equal(i, (int)meta[$"a{i}"]!);
            Assert.Equal(i, (int)meta[$"b{i}"]!);
        }
    }

    /// <inheritdoc />
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
        await cluster.DeletePrefixAsync(_prefix);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }

    private async Task<RedisBackend> OpenAsync()
    {
        var b = cluster.CreateBackend(_prefix);
        _backends.Add(b);
        await b.ConnectAsync();
        return b;
    }
}
