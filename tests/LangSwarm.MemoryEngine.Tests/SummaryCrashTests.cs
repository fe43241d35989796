using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>Automatic summaries owed at a crash are made after the reopen: no obligation is lost with the process.</summary>
public sealed class SummaryCrashTests
{
    private sealed class StuckSummarizer : ISummarizer
    {
        public async Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return "never";
        }
    }

    [Fact]
    public async Task OwedSummariesAndEvictions_AtACrash_AreMadeAfterTheReopen()
    {
        var fs = new FaultInjectingFileSystem();
        var crashed = new EngineBackend(new EngineOptions { Path = "store", FileSystem = fs, Durability = DurabilityMode.Strict }, summarizer: new StuckSummarizer());
        await crashed.ConnectAsync();
        var s = await crashed.CreateSessionAsync(new SessionMetadata("owed", "u") { AutoSummarizeThreshold = 4, MaxMessages = 6 });
        for (var i = 0; i < 10; i++)
        {
            await s.AddMessageAsync(new Message(MessageRole.User, $"turn {i}") { TokenCount = 5 });
        }
        // The summarizer never answered: nothing is summarized, so nothing was evicted.
        Assert.Equal(10, (await s.GetMessagesAsync()).Count);
        fs.Kill();
        crashed.Abandon(); // dropped without a dispose, as a killed process
        fs.Crash(new Random(1));

        await using var reopened = new EngineBackend(new EngineOptions { Path = "store", FileSystem = fs, Durability = DurabilityMode.Strict });
        await reopened.ConnectAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await reopened.WhenSummariesIdleAsync(timeout.Token);
        }
        var again = (await reopened.GetSessionAsync("owed"))!;
        var sums = await again.GetSummariesAsync();
        Assert.Equal([(1L, 4L), (1L, 8L)], sums.Select(x => (x.FirstSequence, x.LastSequence)));
        var live = await again.GetMessagesAsync();
        Assert.InRange(live.Count, 1, 6);
        Assert.Equal("turn 9", live[^1].Content);
        Assert.True(live[0].Sequence <= 9, "only what the chain covers was evicted");
    }
}
