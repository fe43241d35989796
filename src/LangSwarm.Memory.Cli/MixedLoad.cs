using LangSwarm.Memory;
using LangSwarm.MemoryEngine;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.Memory.Cli;

/// <summary>
/// <c>lsmem write-load --mixed</c>: a mixed workload on a few sessions until stopped — single adds, batches,
/// eviction, archive, delete and re-create of the same ids — with the background vacuum looping (and pausing,
/// and packing the small sessions) all the while. Every step is announced before it starts and acknowledged after it returns, so a process
/// that kills it (the kill test) knows what may and what must have happened.
/// </summary>
/// <remarks>
/// Lines: <c>ack S ID</c> (an add returned), <c>evicting S</c>, <c>deleting S</c> / <c>deleted S</c>,
/// <c>creating S</c> / <c>created S</c>, <c>archiving S</c> / <c>archived S</c>.
/// </remarks>
internal static class MixedLoad
{
    private const int Sessions = 6;

    public static async Task<int> RunAsync(string store, long limit, CancellationToken ct)
    {
        var options = new EngineOptions
        {
            Path = store,
            Durability = DurabilityMode.Strict,
            SegmentMaxBytes = 32 * 1024,
            CheckpointLogBytes = 256 * 1024,
            AutoVacuumDeadFraction = 0.0,
            AutoVacuumInterval = TimeSpan.FromMilliseconds(50),
            VacuumPause = TimeSpan.FromMilliseconds(20),
            // Every pass packs the small sessions it finds (none is idle long in this workload), so kills also land
            // in packing, in writes that take a packed session out again, and in erasures.
            PackSessionsBelowBytes = 24 * 1024,
            PackSessionsIdleFor = TimeSpan.Zero,
        };
        var backend = new EngineBackend(options);
        await using var _ = backend;
        await backend.ConnectAsync(ct);
        var rnd = new Random();
        for (long step = 0; limit == 0 || step < limit; step++)
        {
            var id = $"mix-{rnd.Next(Sessions)}";
            var session = await backend.GetSessionAsync(id, ct);
            if (session is null)
            {
                Say($"creating {id}");
                await backend.CreateSessionAsync(new SessionMetadata(id, "mix") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = 100_000, MaxTokens = int.MaxValue }, ct);
                Say($"created {id}");
                continue;
            }
            var archived = session.Metadata.Status == SessionStatus.Archived;
            var roll = rnd.Next(100);
            if (roll < 4 || (archived && roll < 30))
            {
                Say($"deleting {id}");
                await backend.DeleteSessionAsync(id, ct);
                Say($"deleted {id}");
            }
            else if (archived)
            {
                continue;
            }
            else if (roll < 8)
            {
                Say($"archiving {id}");
                await session.ArchiveSessionAsync(ct);
                Say($"archived {id}");
            }
            else if (roll < 12)
            {
                Say($"evicting {id}");
                await session.UpdateMetadataAsync(new Dictionary<string, object?> { ["max_messages"] = rnd.Next(3, 12) }, ct);
            }
            else if (roll < 30)
            {
                var batch = new List<Message>();
                for (var i = 0; i < 3; i++)
                {
                    batch.Add(NewMessage(rnd, step));
                }
                await session.AddMessagesAsync(batch, ct);
                foreach (var m in batch)
                {
                    Say($"ack {id} {m.MessageId}");
                }
            }
            else
            {
                var m = NewMessage(rnd, step);
                await session.AddMessageAsync(m, ct);
                Say($"ack {id} {m.MessageId}");
            }
        }
        return 0;
    }

    private static Message NewMessage(Random rnd, long step) =>
        new(rnd.Next(3) == 0 ? MessageRole.Assistant : MessageRole.User, $"mixed {step} " + new string('m', rnd.Next(1, 1500))) { TokenCount = 5 };

    private static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
