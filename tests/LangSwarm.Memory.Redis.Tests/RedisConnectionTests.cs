using System.Net;
using System.Net.Sockets;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>Connection failures, server restarts and health.</summary>
public sealed class RedisConnectionTests
{
    [Fact]
    public async Task NoServer_FailsWithBackendUnavailable()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        await using var b = new RedisBackend(new RedisBackendOptions { Host = "127.0.0.1", Port = port, ConnectTimeoutSeconds = 1 });
        var ex = await Assert.ThrowsAsync<BackendUnavailableException>(() => b.ConnectAsync());
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.False(b.IsConnected);
        Assert.Equal(HealthStatus.Unhealthy, (await b.HealthCheckAsync()).Status);
    }

    [Fact]
    public async Task ServerRestart_FailsClearly_ThenWorksAgain()
    {
        await using var server = await RedisServer.StartAsync();
        await using var b = new RedisBackend(new RedisBackendOptions { Host = "127.0.0.1", Port = server.Port, KeyPrefix = "restart" });
        await b.ConnectAsync();
        await b.CreateSessionAsync(new SessionMetadata("before"));

        await server.StopAsync();
        await Assert.ThrowsAsync<BackendUnavailableException>(() => b.ListSessionsAsync());
        Assert.Equal(HealthStatus.Unhealthy, (await b.HealthCheckAsync()).Status);

        await server.StartAgainAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                // The server kept nothing (no persistence): the id is free again.
                await b.CreateSessionAsync(new SessionMetadata("after"));
                break;
            }
            catch (BackendUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (SessionAlreadyExistsException)
            {
                // An earlier try reached the server but its reply was lost to the reconnect (a slow machine):
                // the create happened, which is all this step needs.
                break;
            }
        }
        var s = await b.GetSessionAsync("after");
        await s!.AddMessageAsync(new Message(MessageRole.User, "back") { TokenCount = 1 });
        Assert.Equal(["after"], (await b.ListSessionsAsync()).Select(m => m.SessionId));
        Assert.Equal(HealthStatus.Healthy, (await b.HealthCheckAsync()).Status);
    }
}
