using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    /// <summary>Sessions × tasks × messages of the concurrency test; persistent backends may lower it.</summary>
    protected virtual (int Sessions, int TasksPerSession, int MessagesPerTask) ConcurrencyShape => (16, 4, 25);

    [Fact]
    public async Task ConcurrentAdds_LoseNothing_AndKeepPerTaskOrder()
    {
        var (sessions, tasksPer, perTask) = ConcurrencyShape;
        var ids = new List<string>();
        for (var i = 0; i < sessions; i++)
        {
            ids.Add((await NewSessionAsync(id: $"conc-{i}", configure: m => m.MaxMessages = 100_000)).SessionId);
        }
        var work = new List<Task>();
        foreach (var id in ids)
        {
            for (var t = 0; t < tasksPer; t++)
            {
                var task = t;
                work.Add(Task.Run(async () =>
                {
                    var session = (await Backend.GetSessionAsync(id))!;
                    for (var n = 0; n < perTask; n++)
                    {
                        await session.AddMessageAsync(Msg(MessageRole.User, $"{task}:{n}", 3));
                    }
                }));
            }
        }
        await Task.WhenAll(work);

        foreach (var id in ids)
        {
            var got = await (await Backend.GetSessionAsync(id))!.GetMessagesAsync();
            Assert.Equal(tasksPer * perTask, got.Count);
            Assert.Equal(Enumerable.Range(1, got.Count).Select(i => (long)i), got.Select(m => m.Sequence));
            for (var t = 0; t < tasksPer; t++)
            {
                var mine = got.Where(m => m.Content.StartsWith($"{t}:", StringComparison.Ordinal)).Select(m => m.Content).ToList();
                Assert.Equal(Enumerable.Range(0, perTask).Select(n => $"{t}:{n}"), mine);
            }
        }
        Assert.Equal(sessions * tasksPer * perTask, (await Backend.GetUsageStatsAsync()).TotalMessages);
    }

    [Fact]
    public async Task ConcurrentCreates_OfOneId_MakeExactlyOne()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            try
            {
                await Backend.CreateSessionAsync(new SessionMetadata("race", "u"));
                return true;
            }
            catch (SessionAlreadyExistsException)
            {
                return false;
            }
        })));
        Assert.Equal(1, results.Count(r => r));
    }
}
