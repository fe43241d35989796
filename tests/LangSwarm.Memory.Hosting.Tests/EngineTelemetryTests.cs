using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LangSwarm.MemoryEngine;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>The engine's own metrics and log events: fsync, group commit, checkpoint, vacuum, recovery, a cut tail.</summary>
[Collection(nameof(TelemetryCollection))]
public sealed class EngineTelemetryTests : IDisposable
{
    private const string Secret = "SECRET-ENGINE-CONTENT-0815";

    private readonly ConcurrentQueue<(string Name, double Value, string Tags)> _measurements = new();
    private readonly MeterListener _meters = new();
    private readonly ListLogger _log = new();
    private readonly TempDir _dir = new();

    public EngineTelemetryTests()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MemoryTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => _measurements.Enqueue((i.Name, v, Tags(tags))));
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => _measurements.Enqueue((i.Name, v, Tags(tags))));
        _meters.Start();
    }

    private static string Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags) => string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"));

    public void Dispose()
    {
        _meters.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Fsync_group_commit_checkpoint_vacuum_recovery_and_a_cut_tail_are_measured_and_logged()
    {
        var options = new EngineOptions { Path = _dir.Path, Durability = DurabilityMode.Strict, CheckpointLogBytes = EngineOptions.MinFileBytes };
        await using (var engine = new EngineBackend(options) { Logger = _log })
        {
            await engine.ConnectAsync(Ct.Token);
            var session = await engine.CreateSessionAsync(new SessionMetadata("telemetry"), Ct.Token);
            for (var i = 0; i < 5; i++)
            {
                await session.AddMessageAsync(new Message(MessageRole.User, $"{Secret} {i} " + new string('x', 600)), Ct.Token);
            }
            await engine.VacuumAsync(0, Ct.Token);
        }
        var log = Directory.GetFiles(Path.Combine(_dir.Path, "wal"), "*.log").Single();
        await using (var f = new FileStream(log, FileMode.Append))
        {
            f.Write(Enumerable.Repeat((byte)0xAB, 100).ToArray()); // a tail a crash left half-written
        }
        await using (var reopened = new EngineBackend(options) { Logger = _log })
        {
            await reopened.ConnectAsync(Ct.Token);
        }

        Assert.Contains(_measurements, m => m.Name == MemoryTelemetry.EngineFsyncDuration && m.Value >= 0);
        Assert.Contains(_measurements, m => m.Name == MemoryTelemetry.EngineCommitGroupSize && m.Value >= 1);
        Assert.Contains(_measurements, m => m.Name == MemoryTelemetry.EngineCheckpointDuration);
        Assert.Contains(_measurements, m => m.Name == MemoryTelemetry.EngineVacuumDuration);
        Assert.Contains(_measurements, m => m.Name == MemoryTelemetry.EngineVacuumReclaimed);
        Assert.True(_measurements.Count(m => m.Name == MemoryTelemetry.EngineRecoveryDuration) >= 2, "one recovery per open");
        Assert.All(_measurements.Where(m => m.Name.StartsWith("langswarm.memory.engine.", StringComparison.Ordinal)), m => Assert.Equal($"{MemoryTelemetry.BackendTag}=engine", m.Tags));

        var ids = _log.Entries.Select(e => e.Id).ToList();
        Assert.Equal(2, ids.Count(id => id == MemoryEventIds.StoreOpened));
        Assert.Contains(MemoryEventIds.CheckpointCompleted, ids);
        Assert.Contains(MemoryEventIds.VacuumCompleted, ids);
        Assert.Contains(_log.Entries, e => e.Id == MemoryEventIds.TornTailCut && e.Text.Contains("100 torn byte", StringComparison.Ordinal));
        Assert.DoesNotContain(_log.Entries, e => e.Text.Contains(Secret, StringComparison.Ordinal));
    }
}
