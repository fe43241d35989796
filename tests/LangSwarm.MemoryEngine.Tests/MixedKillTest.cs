using System.Diagnostics;
using LangSwarm.Memory;
using Xunit;
using Xunit.Abstractions;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Real processes running the mixed workload (<c>lsmem write-load --mixed</c>: adds, batches, eviction, archive,
/// delete and re-create, the background vacuum looping with its pause) are SIGKILLed at random moments, some
/// of them while they open the store (inside recovery). After every few kills the store is opened here and
/// held to what the killed processes acknowledged.
/// </summary>
public sealed class MixedKillTest(ITestOutputHelper output)
{
    private enum Life
    {
        Live,
        Deleted,
        Uncertain,
    }

    /// <summary>Kills per run (<c>LSMEM_KILLS</c> scales it for long local runs).</summary>
    private static int Kills => int.TryParse(Environment.GetEnvironmentVariable("LSMEM_KILLS"), out var n) ? n : 33;

    [Fact]
    public async Task SigkillsUnderAMixedWorkload_LoseNothingAcknowledged_InventNothing_LeaveNoDamage()
    {
        using var dir = new TempStore();
        var cli = KillTest.FindCli();
        var model = new Dictionary<string, Model>(StringComparer.Ordinal);
        var random = new Random(Environment.TickCount);
        var kills = 0;
        long ackedTotal = 0;
        while (kills < Kills)
        {
            // A kill mid-workload, then (often) one during the next process's open, which runs recovery.
            ackedTotal += await RunAndKillAsync(cli, dir.Path, model, random.Next(150, 900), minAcks: 5);
            kills++;
            if (random.Next(2) == 0)
            {
                ackedTotal += await RunAndKillAsync(cli, dir.Path, model, random.Next(0, 250), minAcks: 0);
                kills++;
            }
            await CheckAsync(dir.Path, model);
        }
        Assert.True(ackedTotal > kills, $"only {ackedTotal} adds acknowledged over {kills} kills");
        output.WriteLine($"{kills} SIGKILLs, {ackedTotal} acknowledged adds, {model.Count} session ids");
        CrashHarness.Trace($"mixed: done: {kills} SIGKILLs, {ackedTotal} acknowledged adds");
    }

    private static async Task<long> RunAndKillAsync(string cli, string store, Dictionary<string, Model> model, int afterMs, int minAcks)
    {
        var psi = new ProcessStartInfo("dotnet", ["exec", cli, "write-load", "--mixed", "--store", store])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var child = Process.Start(psi)!;
        CrashHarness.Trace($"mixed: started {child.Id}, kill {afterMs} ms after {minAcks} acks");
        var lines = new List<string>();
        var acks = 0;
        var reader = Task.Run(async () =>
        {
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);

                    if (line.StartsWith("ack ", StringComparison.Ordinal))
                    {
                        acks++;
                    }
                }
            }
        });
        var errors = child.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && !child.HasExited)
        {
            lock (lines)
            {
                if (acks >= minAcks)
                {
                    break;
                }
            }
            await Task.Delay(5);
        }
        await Task.Delay(afterMs);
        if (child.HasExited)
        {
            Assert.Fail($"the workload stopped by itself: {await errors}");
        }
        child.Kill(entireProcessTree: true); // SIGKILL: no finally, no flush, no checkpoint
        CrashHarness.Trace("mixed: killed");
        await child.WaitForExitAsync();
        CrashHarness.Trace("mixed: exited");
        await reader;
        CrashHarness.Trace("mixed: read");
        lock (lines)
        {
            foreach (var line in lines)
            {
                Apply(model, line);
            }
            return acks;
        }
    }

    private static void Apply(Dictionary<string, Model> model, string line)
    {
        var parts = line.Split(' ');
        if (parts.Length < 2)
        {
            return;
        }
        var m = model.TryGetValue(parts[1], out var found) ? found : model[parts[1]] = new Model();
        switch (parts[0])
        {
            case "ack":
                m.Acked.Add(parts[2]);
                break;
            case "evicting":
                m.Evictable = true;
                break;
            case "creating":
                m.Life = Life.Uncertain;
                m.Acked.Clear(); // a new session under the old id owes nothing to the old one
                m.Evictable = false;
                m.Creating = true;
                break;
            case "created":
                m.Life = Life.Live;
                m.Creating = false;
                break;
            case "deleting":
                m.Life = Life.Uncertain;
                m.Creating = false;
                break;
            case "deleted":
                m.Life = Life.Deleted;
                break;
        }
    }

    private static async Task CheckAsync(string store, Dictionary<string, Model> model)
    {
        CrashHarness.Trace("mixed: check");
        var backend = new EngineBackend(store);
        await backend.ConnectAsync();
        CrashHarness.Trace("mixed: opened");
        try
        {
            Assert.True(backend.Engine.Damage.Count == 0, "damage after SIGKILLs: " + string.Join("; ", backend.Engine.Damage));
            foreach (var (id, m) in model)
            {
                var session = await backend.GetSessionAsync(id);
                if (m.Life == Life.Deleted)
                {
                    Assert.True(session is null, $"'{id}' was deleted and is back");
                    continue;
                }
                if (session is null)
                {
                    Assert.True(m.Life == Life.Uncertain, $"'{id}' lost although its creation was acknowledged");
                    m.Life = Life.Deleted;
                    m.Acked.Clear();
                    continue;
                }
                var stored = (await session.GetMessagesAsync()).Select(x => x.MessageId).ToList();
                Assert.Equal(stored.Count, stored.Distinct().Count());
                var set = stored.ToHashSet();
                var ackedPresent = m.Acked.Where(set.Contains).ToList();
                Assert.Equal(ackedPresent, stored.Where(m.Acked.ToHashSet().Contains)); // acknowledged order kept
                if (!m.Evictable && m.Life == Life.Live)
                {
                    var missing = m.Acked.Where(x => !set.Contains(x)).ToList();
                    Assert.True(missing.Count == 0, $"'{id}': {missing.Count} of {m.Acked.Count} acknowledged adds lost");
                }
                if (m.Life == Life.Uncertain && !m.Creating && !m.Evictable)
                {
                    // The delete did not land: the session is as it was.
                    Assert.True(m.Acked.All(set.Contains), $"'{id}' kept after a cut-off delete, but lost acknowledged adds");
                }
                m.Life = Life.Live;
                m.Creating = false;
            }
            var verify = await backend.VerifyAsync();
            Assert.True(verify.Ok, string.Join("; ", verify.Problems));
        }
        finally
        {
            await backend.DisposeAsync();
        }
    }

    private sealed class Model
    {
        public List<string> Acked { get; } = [];

        public bool Evictable { get; set; }

        public bool Creating { get; set; }

        public Life Life { get; set; } = Life.Uncertain;
    }
}
