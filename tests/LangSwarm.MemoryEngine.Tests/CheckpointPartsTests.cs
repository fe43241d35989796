using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// A checkpoint over many changed sessions commits in parts (FORMAT.md §6.4): a crash at any operation of such a
/// checkpoint, between its parts included, loses nothing that was acknowledged, and the store verifies.
/// </summary>
public sealed class CheckpointPartsTests
{
    private static EngineOptions Options(FaultInjectingFileSystem fs) => new()
    {
        Path = "store",
        FileSystem = fs,
        Durability = DurabilityMode.Strict,
        CheckpointPartEntries = 10,
        CheckpointLogBytes = 1 << 30,
    };

    [Fact]
    public async Task ACrashAtAnyPointOfAMultiPartCheckpoint_LosesNothing()
    {
        for (var crashAt = 1; ; crashAt += 3)
        {
            var fs = new FaultInjectingFileSystem();
            var backend = new EngineBackend(Options(fs));
            await backend.ConnectAsync();
            var expected = new Dictionary<string, List<string>>();
            for (var k = 0; k < 12; k++)
            {
                var s = await backend.CreateSessionAsync(new SessionMetadata($"s{k}", "u") { SummaryStrategy = SummaryStrategy.Manual });
                expected[$"s{k}"] = [];
            }
            await backend.CheckpointAsync();
            // Every session changes: the next checkpoint commits in several parts.
            for (var round = 0; round < 3; round++)
            {
                foreach (var (id, texts) in expected)
                {
                    var text = $"{id} round {round}";
                    await (await backend.GetSessionAsync(id))!.AddMessageAsync(new Message(MessageRole.User, text) { TokenCount = 1 });
                    texts.Add(text);
                }
            }
            var before = fs.Operations;
            fs.CrashAfterOperations = before + crashAt;
            var finished = true;
            try
            {
                await backend.CheckpointAsync();
            }
            catch (Exception ex) when (ex is MemoryException or IOException)
            {
                finished = false;
            }
            finished &= !fs.IsDead;
            fs.Kill();
            backend.Abandon();
            fs.Crash(new Random(crashAt));

            var reopened = new EngineBackend(Options(fs));
            await reopened.ConnectAsync();
            foreach (var (id, texts) in expected)
            {
                Assert.Equal(texts, (await (await reopened.GetSessionAsync(id))!.GetMessagesAsync()).Select(m => m.Content));
            }
            await reopened.Engine.OpenWorkCompletion;
            var verify = await reopened.VerifyAsync();
            Assert.True(verify.Ok, $"crash at {crashAt}: {string.Join("; ", verify.Problems)}");
            Assert.Equal(36, (await reopened.GetUsageStatsAsync()).TotalMessages);
            await reopened.DisposeAsync();
            if (finished)
            {
                // The checkpoint ran to its end before the crash point: every point inside it was tried.
                Assert.True(crashAt > 10, "the checkpoint finished too quickly to be cut anywhere");
                return;
            }
        }
    }
}
