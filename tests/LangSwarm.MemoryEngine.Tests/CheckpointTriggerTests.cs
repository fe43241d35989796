using LangSwarm.Memory;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>A checkpoint starts when the log reaches its byte size or its record count, whichever comes first.</summary>
public sealed class CheckpointTriggerTests
{
    [Fact]
    public async Task ARecordCountBelowTheLogSize_StartsACheckpoint_AndTheStoreReopensWithEveryMessage()
    {
        using var dir = new TempStore();
        var options = new EngineOptions { Path = dir.Path, Durability = DurabilityMode.None, CheckpointLogBytes = 1L << 30, CheckpointRecords = 50 };
        await using (var backend = new EngineBackend(options))
        {
            await backend.ConnectAsync();
            var s = await backend.CreateSessionAsync(new SessionMetadata("s", "u") { SummaryStrategy = SummaryStrategy.Manual });
            for (var i = 0; i < 40; i++)
            {
                await s.AddMessageAsync(new Message(MessageRole.User, $"m{i}") { TokenCount = 1 });
            }
            await backend.Engine.OpenWorkCompletion;
            await Task.Delay(50);
            Assert.Equal(0, backend.Engine.CheckpointCount); // 41 records: below both limits

            for (var i = 40; i < 120; i++)
            {
                await s.AddMessageAsync(new Message(MessageRole.User, $"m{i}") { TokenCount = 1 });
            }
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (backend.Engine.CheckpointCount < 1 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }
            Assert.True(backend.Engine.CheckpointCount >= 1, "no checkpoint started after 121 records with CheckpointRecords = 50");
            Assert.True(backend.Engine.LogBytes < 64 * 1024, "the log was rotated by the record count, not its size");
        }
        await using (var reopened = new EngineBackend(options with { CheckpointRecords = 1024 * 1024 }))
        {
            await reopened.ConnectAsync();
            var s = await reopened.GetSessionAsync("s");
            Assert.NotNull(s);
            Assert.Equal(120, (await s.GetMessagesAsync()).Count);
        }
    }

    [Fact]
    public void TheProviderReadsCheckpointRecords()
    {
        using var dir = new TempStore();
        var provider = new EngineBackendProvider();
        var backend = (EngineBackend)provider.Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = dir.Path, ["checkpoint_records"] = 2048 }));
        Assert.Equal(2048, backend.Options.CheckpointRecords);
        var defaults = (EngineBackend)provider.Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = dir.Path }));
        Assert.Equal(1024 * 1024, defaults.Options.CheckpointRecords);
        Assert.Throws<MemoryConfigurationException>(() => provider.Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = dir.Path, ["checkpoint_records"] = 10 })));
    }
}
