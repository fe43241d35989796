using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    /// <summary>Generated cases of the model property; slow backends may lower it.</summary>
    protected virtual int ModelPropertyCases => 40;

    /// <summary>
    /// Any sequence of creates, adds, archives and deletes leaves the backend in the same observable state as a
    /// trivially correct model (dictionaries and lists).
    /// </summary>
    [Fact]
    public void RandomOperations_MatchTheModel()
    {
        var ops = ArbMap.Default.ArbFor<byte[]>();
        var property = Prop.ForAll(ops, program => RunAgainstModel(program).GetAwaiter().GetResult());
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(ModelPropertyCases), property);
    }

    private async Task<bool> RunAgainstModel(byte[] program)
    {
        var user = "model-" + Guid.NewGuid().ToString("N");
        var model = new Dictionary<string, (List<(MessageRole Role, string Text)> Messages, bool Archived)>();
        for (var i = 0; i + 1 < program.Length; i += 2)
        {
            var op = program[i] % 5;
            var id = $"{user}-{program[i + 1] % 4}";
            var exists = model.TryGetValue(id, out var entry);
            switch (op)
            {
                case 0:
                    if (exists)
                    {
                        await Assert.ThrowsAsync<SessionAlreadyExistsException>(() => Backend.CreateSessionAsync(new SessionMetadata(id, user)));
                    }
                    else
                    {
                        await Backend.CreateSessionAsync(new SessionMetadata(id, user) { SummaryStrategy = SummaryStrategy.Manual });
                        model[id] = ([], false);
                    }
                    break;
                case 1:
                case 2:
                    var role = (MessageRole)((program[i + 1] >> 2) % 3);
                    var text = $"t{i}-{program[i + 1]}";
                    var s = await Backend.GetSessionAsync(id);
                    Assert.Equal(exists, s is not null);
                    if (s is null)
                    {
                        break;
                    }
                    if (entry.Archived)
                    {
                        await Assert.ThrowsAsync<SessionArchivedException>(() => s.AddMessageAsync(Msg(role, text, 2)));
                    }
                    else
                    {
                        await s.AddMessageAsync(Msg(role, text, 2));
                        entry.Messages.Add((role, text));
                    }
                    break;
                case 3:
                    Assert.Equal(exists, await Backend.DeleteSessionAsync(id));
                    model.Remove(id);
                    break;
                case 4:
                    if (exists)
                    {
                        await (await Backend.GetSessionAsync(id))!.ArchiveSessionAsync();
                        model[id] = (entry.Messages, true);
                    }
                    break;
            }
        }

        var listed = (await Backend.ListSessionsAsync(userId: user, limit: 1000)).Select(m => m.SessionId).Order(StringComparer.Ordinal);
        Assert.Equal(model.Keys.Order(StringComparer.Ordinal), listed);
        foreach (var (id, (messages, archived)) in model)
        {
            var s = (await Backend.GetSessionAsync(id))!;
            Assert.Equal(archived ? SessionStatus.Archived : SessionStatus.Active, s.Metadata.Status);
            var got = await s.GetMessagesAsync();
            Assert.Equal(messages, got.Select(m => (m.Role, m.Content)));
            await Backend.DeleteSessionAsync(id);
        }
        return true;
    }
}
