using Xunit;

namespace LangSwarm.Memory.Tests.Configuration;

/// <summary>A manager's backend reports its health before the first operation.</summary>
public sealed class ManagerHealthTests
{
    [Fact]
    public async Task Fresh_manager_from_InitializeMemory_is_healthy_before_its_first_operation()
    {
        await using var manager = LangSwarmMemory.InitializeMemory("development");
        Assert.False(manager.Backend.IsConnected);
        var health = await manager.Backend.HealthCheckAsync();
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.True(health.Connected);
        Assert.Equal("healthy", health.ToDictionary()["status"]);
    }

    [Fact]
    public async Task Shut_down_manager_stays_unhealthy()
    {
        var manager = LangSwarmMemory.InitializeMemory("development");
        await manager.GetOrCreateSessionAsync("u");
        await manager.ShutdownAsync();
        var health = await manager.Backend.HealthCheckAsync();
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.False(manager.Backend.IsConnected);
    }

    [Fact]
    public async Task A_backend_on_its_own_does_not_connect_for_a_health_check()
    {
        await using var backend = new InMemoryBackend();
        Assert.Equal(HealthStatus.Unhealthy, (await backend.HealthCheckAsync()).Status);
        Assert.False(backend.IsConnected);
    }
}
