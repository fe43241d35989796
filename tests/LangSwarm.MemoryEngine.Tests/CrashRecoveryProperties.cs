using FsCheck;
using FsCheck.Fluent;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// The crash-recovery properties of the engine, over generated programs, crash points and faults (lost,
/// torn and reordered unsynced writes; fsync failures; a full disk; crashes inside recovery and checkpoints).
/// <c>LSMEM_CRASH_CASES</c> scales the number of cases (CI runs the default; the long run is in src/LangSwarm.MemoryEngine/DESIGN.md).
/// </summary>
public sealed class CrashRecoveryProperties
{
    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("LSMEM_CRASH_CASES"), out var n) ? n : 150;

    [Fact]
    public void Strict_AcknowledgedWritesSurvive_NothingInvented_RecoveryIdempotent_IndexMatchesSegments()
    {
        var packed = CrashHarness.SessionsPacked;
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), program => Check(program, reorder: false));
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases), prop);
        // The programs' vacuums pack small sessions: the crashes also land in packing, erasure and regrouping.
        Assert.True(CrashHarness.SessionsPacked > packed, "no program packed a session");
    }

    [Fact]
    public void Strict_Properties_HoldWithEncryption()
    {
        // The same programs over a store that seals every record and index page (FORMAT.md §13): torn sealed
        // records are cut like plain ones, and nothing acknowledged is lost to a seal.
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), program => Check(program, reorder: false, encryption: TestKeys.Provider));
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases / 2), prop);
    }

    [Fact]
    public void Strict_Properties_HoldWhenUnsyncedWritesAreReordered()
    {
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), program => Check(program, reorder: true));
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases / 2), prop);
    }

    [Fact]
    public void Strict_Properties_HoldWhenCheckpointsSyncTheWholeStoreAtOnce()
    {
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), program => Check(program, reorder: false, syncAllAbove: 0));
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases / 2), prop);
    }

    [Fact]
    public async Task Batched_LosesAtMostTheWindowSinceTheLastSync()
    {
        for (var round = 0; round < 5; round++)
        {
            var fs = new FaultInjectingFileSystem();
            var h = new CrashHarness(fs, DurabilityMode.Batched);
            var backend = await h.OpenAsync();
            var s = await backend.CreateSessionAsync(new SessionMetadata("b", "u") { SummaryStrategy = SummaryStrategy.Manual });
            for (var i = 0; i < 20; i++)
            {
                await s.AddMessageAsync(new Message(MessageRole.User, $"before {i}") { TokenCount = 2 });
            }
            // Wait until a background fsync has run after those adds: they are then outside the loss window.
            var syncs = backend.Engine.BackgroundSyncs;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (backend.Engine.BackgroundSyncs < syncs + 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }
            Assert.True(backend.Engine.BackgroundSyncs >= syncs + 2, "the batched fsync timer never ran");
            for (var i = 0; i < 20; i++)
            {
                await s.AddMessageAsync(new Message(MessageRole.User, $"after {i}") { TokenCount = 2 });
            }
            fs.Kill();
            backend.Abandon();
            fs.Crash(new Random(round));

            var reopened = await h.OpenAsync();
            var got = (await (await reopened.GetSessionAsync("b"))!.GetMessagesAsync()).Select(m => m.Content).ToList();
            Assert.True(reopened.Engine.Damage.Count == 0, $"recovery: {reopened.Recovery} damage: {string.Join("; ", reopened.Engine.Damage)} got: {string.Join(",", got)}");
            Assert.Equal(Enumerable.Range(0, 20).Select(i => $"before {i}"), got.Take(20));
            Assert.Equal(Enumerable.Range(0, got.Count - 20).Select(i => $"after {i}"), got.Skip(20));
            Assert.True((await reopened.VerifyAsync()).Ok);
            await reopened.DisposeAsync();
        }
    }

    private static bool Check(byte[] program, bool reorder, int syncAllAbove = 32, IKeyProvider? encryption = null)
    {
        if (Environment.GetEnvironmentVariable("LSMEM_CRASH_TRACE") is not null)
        {
            File.AppendAllText("/tmp/crash-trace.txt", $"{reorder} [{string.Join(",", program)}]\n");
        }
        var task = CheckAsync(program, reorder, syncAllAbove, encryption);
        if (!task.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"case hung: reorder={reorder} program=[{string.Join(",", program)}]");
        }
        return task.GetAwaiter().GetResult();
    }

    private static async Task<bool> CheckAsync(byte[] program, bool reorder, int syncAllAbove, IKeyProvider? encryption)
    {
        var seed = program.Aggregate(17, (a, b) => (a * 31) + b);
        var random = new Random(seed);
        var fs = new FaultInjectingFileSystem { AllowReordering = reorder };
        var harness = new CrashHarness(fs, DurabilityMode.Strict, syncAllAbove, encryption);

        var backend = await harness.OpenAsync();
        // Crash at a random operation of the run (or never, when the program ends first).
        fs.CrashAfterOperations = fs.Operations + random.Next(1, 60 + (program.Length * 4));
        await harness.RunAsync(backend, program, random);
        CrashHarness.Trace("step: kill");
        fs.Kill();
        await harness.StopBackgroundAsync();
        backend.Abandon();
        fs.Crash(random);
        fs.CapacityBytes = long.MaxValue; // the operator frees space before restarting

        // Recovery may itself crash, any number of times; the next one must repair it.
        EngineBackend? reopened = null;
        for (var attempt = 0; reopened is null; attempt++)
        {
            var injected = attempt < 3 && random.Next(2) == 0;
            if (injected)
            {
                fs.CrashAfterOperations = fs.Operations + random.Next(1, 40);
            }
            try
            {
                CrashHarness.Trace($"reopen attempt {attempt} crashAt {fs.CrashAfterOperations} ops {fs.Operations}");
                reopened = await harness.OpenAsync();
                // The open leaves its checkpoint and sweep to the background: the injected crash may land there.
                await reopened.Engine.OpenWorkCompletion;
                fs.CrashAfterOperations = null;
                if (fs.IsDead)
                {
                    throw new SimulatedCrashException("crashed in the open's background work");
                }
            }
            catch (Exception ex) when (ex is MemoryException or IOException)
            {
                Assert.True(injected && fs.IsDead, $"recovery failed without an injected crash: {ex}");
                fs.Kill();
                reopened?.Abandon();
                reopened = null;
                fs.Crash(random);
            }
        }

        CrashHarness.Trace("step: var first = await ObserveAsync");
        var first = await ObserveAsync(reopened, harness);
        var verify = await reopened.VerifyAsync();
        Assert.True(verify.Ok, "index disagrees with a full scan: " + string.Join("; ", verify.Problems));

        // Reopen is idempotent: crash right after a recovery, recover again, same state.
        fs.Kill();
        reopened.Abandon();
        fs.Crash(random);
        CrashHarness.Trace("step: var again = await harness.Open");
        var again = await harness.OpenAsync();
        var second = await ObserveAsync(again, harness);
        Assert.Equal(first, second);
        CrashHarness.Trace("step: await again.DisposeAsync();");
        await again.DisposeAsync();

        // A clean close lets the next open trust the checkpoint without scanning segments: same state.
        var afterClean = await harness.OpenAsync();
        Assert.Equal(first, await ObserveAsync(afterClean, harness));
        Assert.True((await afterClean.VerifyAsync()).Ok);
        await afterClean.DisposeAsync();
        return true;
    }

    /// <summary>Checks properties 1 and 2 and returns the observable state.</summary>
    private static async Task<string> ObserveAsync(EngineBackend backend, CrashHarness h)
    {
        var state = new System.Text.StringBuilder();
        var listed = (await backend.ListSessionsAsync(limit: 1000)).Select(m => m.SessionId).Order(StringComparer.Ordinal).ToList();
        foreach (var id in h.LiveSessions)
        {
            Assert.Contains(id, listed);
        }
        foreach (var id in h.Deleted)
        {
            Assert.DoesNotContain(id, listed);
        }
        foreach (var id in listed)
        {
            Assert.True(h.LiveSessions.Contains(id) || h.Uncertain.Contains(id), $"session '{id}' was never created");
            var got = await (await backend.GetSessionAsync(id))!.GetMessagesAsync();
            var acked = h.Acked.GetValueOrDefault(id) ?? [];
            var written = acked.Concat(h.Maybe.GetValueOrDefault(id) ?? []).ToDictionary(m => m.MessageId);

            // 2: nothing invented, nothing twice, order kept.
            Assert.Equal(got.Count, got.Select(m => m.MessageId).Distinct().Count());
            foreach (var m in got)
            {
                Assert.True(written.TryGetValue(m.MessageId, out var w), $"message {m.MessageId} was never written");
                Assert.Equal(w.Content, m.Content);
                Assert.Equal(w.Metadata.ToJsonString(), m.Metadata.ToJsonString());
                Assert.Equal(w.ToolCalls?.ToJsonString(), m.ToolCalls?.ToJsonString());
                Assert.Equal(w.Role, m.Role);
            }
            Assert.True(got.Zip(got.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), "sequences out of order");

            // 1: every acknowledged message is there, byte for byte, in order. (Where the live window was
            //    shrunk, older messages leave it by design: then the newest acknowledged one must be there.)
            var ackedIds = acked.Select(m => m.MessageId).ToHashSet();
            var present = got.Where(m => ackedIds.Contains(m.MessageId)).Select(m => m.MessageId).ToList();
            if (h.Evictable.Contains(id))
            {
                Assert.Equal(acked.Select(m => m.MessageId).Where(present.Contains), present);
                if (acked.Count > 0 && (h.Maybe.GetValueOrDefault(id) ?? []).Count == 0)
                {
                    // (An add cut off by the crash may still have landed and pushed it out of the window.)
                    Assert.Contains(acked[^1].MessageId, present);
                }
            }
            else
            {
                Assert.Equal(acked.Select(m => m.MessageId), present);
            }
            state.Append(id).Append(':').AppendJoin(',', got.Select(m => m.MessageId)).Append('\n');
        }
        return state.ToString();
    }
}
