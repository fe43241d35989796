using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

[CollectionDefinition(nameof(TelemetryCollection), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>The metrics, spans and log events of the session layer, read as an app would read them.</summary>
[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryTests : IDisposable
{
    private const string Secret = "SECRET-CONTENT-4711";

    private readonly ConcurrentQueue<(string Name, double Value, string Tags)> _measurements = new();
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;
    private readonly ListLogger _log = new();

    public TelemetryTests()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MemoryTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _meters.Start();
        _activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == MemoryTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => _spans.Enqueue(a),
        };
        ActivitySource.AddActivityListener(_activities);
    }

    public void Dispose()
    {
        _meters.Dispose();
        _activities.Dispose();
    }

    private void Record(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var t = string.Join(",", tags.ToArray().Select(p => $"{p.Key}={p.Value}"));
        _measurements.Enqueue((i.Name, v, t));
    }

    private double Sum(string name, string backend) =>
        _measurements.Where(m => m.Name == name && m.Tags.Contains($"{MemoryTelemetry.BackendTag}={backend}", StringComparison.Ordinal)).Sum(m => m.Value);

    private int Count(string name) => _measurements.Count(m => m.Name == name);

    [Fact]
    public async Task Adds_contexts_summaries_retention_and_sessions_are_measured_traced_and_logged_without_content()
    {
        var clock = new MovableClock();
        var backend = new InMemoryBackend { Logger = _log, Clock = clock, Retention = new RetentionPolicy { MaxAge = TimeSpan.FromDays(1) } };
        await backend.ConnectAsync(Ct.Token);
        var session = await backend.CreateSessionAsync(new SessionMetadata("t-session"), Ct.Token);
        await session.AddMessageAsync(new Message(MessageRole.User, Secret + " héllo"), Ct.Token);
        await session.AddMessagesAsync([new Message(MessageRole.Assistant, "a"), new Message(MessageRole.User, "b")], Ct.Token);
        await session.GetConversationContextAsync(1000, Ct.Token);
        await session.CreateSummaryAsync(cancellationToken: Ct.Token);

        // The pass that connect starts runs in the background: let it finish before the clock moves, or it may
        // be the one that deletes the session.
        var deadline = Stopwatch.StartNew();
        while (Count(MemoryTelemetry.RetentionDuration) < 1 && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(10, Ct.Token);
        }
        clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await backend.RunRetentionAsync(Ct.Token));
        await backend.DisposeAsync();

        Assert.Equal(3, Sum(MemoryTelemetry.MessagesAdded, "in_memory"));
        Assert.True(Sum(MemoryTelemetry.BytesAdded, "in_memory") >= System.Text.Encoding.UTF8.GetByteCount(Secret + " héllo") + 2);
        Assert.True(Count(MemoryTelemetry.AddDuration) >= 2);
        Assert.True(Count(MemoryTelemetry.ContextDuration) >= 1);
        Assert.Equal(1, Sum(MemoryTelemetry.SummarizerCalls, "in_memory"));
        Assert.True(Count(MemoryTelemetry.SummarizerDuration) >= 1);
        Assert.Equal(1, Sum(MemoryTelemetry.RetentionDeleted, "in_memory"));
        Assert.True(Count(MemoryTelemetry.RetentionDuration) >= 2); // the pass at connect and the one run here
        Assert.Contains(_measurements, m => m.Name == MemoryTelemetry.SessionsOpen && m.Value == 1);
        Assert.Equal(0, Sum(MemoryTelemetry.SessionsOpen, "in_memory")); // opened, then closed at disconnect

        var spans = _spans.Where(a => Equals(a.GetTagItem(MemoryTelemetry.SessionTag), "t-session")).Select(a => a.OperationName).ToList();
        Assert.Contains(MemoryTelemetry.Spans.Add, spans);
        Assert.Contains(MemoryTelemetry.Spans.Context, spans);
        Assert.Contains(MemoryTelemetry.Spans.Summarize, spans);
        Assert.Contains(_spans, a => a.OperationName == MemoryTelemetry.Spans.Retention);

        var ids = _log.Entries.Select(e => e.Id).ToList();
        Assert.Contains(MemoryEventIds.BackendConnected, ids);
        Assert.Contains(MemoryEventIds.RetentionPass, ids);
        Assert.Contains(MemoryEventIds.BackendDisconnected, ids);
        Assert.Contains(_log.Entries, e => e.Id == MemoryEventIds.RetentionPass && e.Level == LogLevel.Information && e.Text.Contains("deleted 1 session", StringComparison.Ordinal));

        Assert.DoesNotContain(_log.Entries, e => e.Text.Contains(Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(_spans, a => a.TagObjects.Any(t => t.Value?.ToString()?.Contains(Secret, StringComparison.Ordinal) == true));
        Assert.DoesNotContain(_measurements, m => m.Tags.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_summarizer_is_counted_and_logged_as_a_warning()
    {
        var backend = new InMemoryBackend(summarizer: new FailingSummarizer()) { Logger = _log };
        backend.BackgroundSummaries.RetryDelay = TimeSpan.FromMinutes(1);
        await backend.ConnectAsync(Ct.Token);
        var session = await backend.CreateSessionAsync(new SessionMetadata("fails") { AutoSummarizeThreshold = 2 }, Ct.Token);
        await session.AddMessagesAsync([new Message(MessageRole.User, Secret), new Message(MessageRole.Assistant, "b"), new Message(MessageRole.User, "c")], Ct.Token);

        var deadline = Stopwatch.StartNew();
        while (!_log.Entries.Any(e => e.Id == MemoryEventIds.SummaryFailed) && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(10, Ct.Token);
        }
        await backend.DisposeAsync();

        Assert.True(Sum(MemoryTelemetry.SummarizerFailures, "in_memory") >= 1);
        Assert.Contains(_measurements, m => m.Name == MemoryTelemetry.SummarizerFailures && m.Tags.Contains("error.type=System.InvalidOperationException", StringComparison.Ordinal));
        var failed = Assert.Single(_log.Entries, e => e.Id == MemoryEventIds.SummaryFailed);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains("fails", failed.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(_log.Entries, e => e.Text.Contains(Secret, StringComparison.Ordinal));
    }

    private sealed class FailingSummarizer : ISummarizer
    {
        public Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("model down");
    }

    private sealed class MovableClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
