using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace LangSwarm.Memory;

/// <summary>
/// The names under which LangSwarm memory reports metrics and traces: subscribe with
/// <c>AddMeter(MemoryTelemetry.MeterName)</c> and <c>AddSource(MemoryTelemetry.ActivitySourceName)</c> in
/// OpenTelemetry, or a <see cref="MeterListener"/> / <see cref="ActivityListener"/>. No instrument or span carries
/// message content; spans carry the session id, metrics only the backend name (<see cref="BackendTag"/>).
/// </summary>
public static class MemoryTelemetry
{
    /// <summary>The <see cref="Meter"/> name.</summary>
    public const string MeterName = "LangSwarm.Memory";

    /// <summary>The <see cref="ActivitySource"/> name.</summary>
    public const string ActivitySourceName = "LangSwarm.Memory";

    /// <summary>Tag on every measurement and span: the backend's name (<c>engine</c>, <c>sqlite</c>, ...).</summary>
    public const string BackendTag = "langswarm.memory.backend";

    /// <summary>Span tag: the session (conversation) id, as OpenTelemetry's generative-AI conventions name it.</summary>
    public const string SessionTag = "gen_ai.conversation.id";

    /// <summary>Counter: messages added ({message}).</summary>
    public const string MessagesAdded = "langswarm.memory.messages.added";

    /// <summary>Counter: UTF-8 bytes of the content of messages added (By).</summary>
    public const string BytesAdded = "langswarm.memory.messages.added.bytes";

    /// <summary>Histogram: duration of an add (one message or a batch), in seconds.</summary>
    public const string AddDuration = "langswarm.memory.add.duration";

    /// <summary>Histogram: duration of building a conversation context, in seconds.</summary>
    public const string ContextDuration = "langswarm.memory.context.duration";

    /// <summary>Counter: summarizer calls ({call}).</summary>
    public const string SummarizerCalls = "langswarm.memory.summarizer.calls";

    /// <summary>Counter: summarizer calls that failed ({call}); tagged <c>error.type</c>.</summary>
    public const string SummarizerFailures = "langswarm.memory.summarizer.failures";

    /// <summary>Histogram: duration of a summarizer call, in seconds.</summary>
    public const string SummarizerDuration = "langswarm.memory.summarizer.duration";

    /// <summary>Histogram: duration of a retention pass, in seconds.</summary>
    public const string RetentionDuration = "langswarm.memory.retention.duration";

    /// <summary>Counter: sessions deleted by retention passes ({session}).</summary>
    public const string RetentionDeleted = "langswarm.memory.retention.deleted";

    /// <summary>UpDownCounter: sessions the session layer holds open ({session}).</summary>
    public const string SessionsOpen = "langswarm.memory.sessions.open";

    /// <summary>Histogram (engine): duration of an fsync of the commit log, in seconds.</summary>
    public const string EngineFsyncDuration = "langswarm.memory.engine.fsync.duration";

    /// <summary>Histogram (engine, Strict): adds acknowledged by one group-commit fsync ({add}).</summary>
    public const string EngineCommitGroupSize = "langswarm.memory.engine.commit.group_size";

    /// <summary>Histogram (engine): duration of a checkpoint, in seconds.</summary>
    public const string EngineCheckpointDuration = "langswarm.memory.engine.checkpoint.duration";

    /// <summary>Histogram (engine): duration of a vacuum (on demand or background), in seconds.</summary>
    public const string EngineVacuumDuration = "langswarm.memory.engine.vacuum.duration";

    /// <summary>Counter (engine): bytes a vacuum gave back to the disk (By).</summary>
    public const string EngineVacuumReclaimed = "langswarm.memory.engine.vacuum.reclaimed";

    /// <summary>Histogram (engine): duration of the recovery at open, in seconds.</summary>
    public const string EngineRecoveryDuration = "langswarm.memory.engine.recovery.duration";

    /// <summary>Span names, one per traced operation.</summary>
    public static class Spans
    {
        /// <summary>An add of one message or a batch.</summary>
        public const string Add = "langswarm.memory.add";

        /// <summary>Building a conversation context.</summary>
        public const string Context = "langswarm.memory.context";

        /// <summary>A summarizer call extending a summary chain.</summary>
        public const string Summarize = "langswarm.memory.summarize";

        /// <summary>A retention pass.</summary>
        public const string Retention = "langswarm.memory.retention";
    }

    private static readonly string? Version = typeof(MemoryTelemetry).Assembly.GetName().Version?.ToString();

    /// <summary>The meter every LangSwarm memory instrument belongs to (the engine adds its own later).</summary>
    internal static readonly Meter Meter = new(MeterName, Version);

    /// <summary>The source of every LangSwarm memory span.</summary>
    internal static readonly ActivitySource Source = new(ActivitySourceName, Version);

    internal static readonly Counter<long> MessagesAddedCounter = Meter.CreateCounter<long>(MessagesAdded, "{message}", "Messages added.");

    internal static readonly Counter<long> BytesAddedCounter = Meter.CreateCounter<long>(BytesAdded, "By", "UTF-8 bytes of the content of messages added.");

    internal static readonly Histogram<double> AddDurationHistogram = Meter.CreateHistogram<double>(AddDuration, "s", "Duration of an add.");

    internal static readonly Histogram<double> ContextDurationHistogram = Meter.CreateHistogram<double>(ContextDuration, "s", "Duration of building a conversation context.");

    internal static readonly Counter<long> SummarizerCallsCounter = Meter.CreateCounter<long>(SummarizerCalls, "{call}", "Summarizer calls.");

    internal static readonly Counter<long> SummarizerFailuresCounter = Meter.CreateCounter<long>(SummarizerFailures, "{call}", "Summarizer calls that failed.");

    internal static readonly Histogram<double> SummarizerDurationHistogram = Meter.CreateHistogram<double>(SummarizerDuration, "s", "Duration of a summarizer call.");

    internal static readonly Histogram<double> RetentionDurationHistogram = Meter.CreateHistogram<double>(RetentionDuration, "s", "Duration of a retention pass.");

    internal static readonly Counter<long> RetentionDeletedCounter = Meter.CreateCounter<long>(RetentionDeleted, "{session}", "Sessions deleted by retention.");

    internal static readonly UpDownCounter<long> SessionsOpenCounter = Meter.CreateUpDownCounter<long>(SessionsOpen, "{session}", "Sessions the session layer holds open.");

    internal static readonly Histogram<double> EngineFsyncHistogram = Meter.CreateHistogram<double>(EngineFsyncDuration, "s", "Duration of an fsync of the engine's commit log.");

    internal static readonly Histogram<long> EngineCommitGroupHistogram = Meter.CreateHistogram<long>(EngineCommitGroupSize, "{add}", "Adds acknowledged by one group-commit fsync.");

    internal static readonly Histogram<double> EngineCheckpointHistogram = Meter.CreateHistogram<double>(EngineCheckpointDuration, "s", "Duration of an engine checkpoint.");

    internal static readonly Histogram<double> EngineVacuumHistogram = Meter.CreateHistogram<double>(EngineVacuumDuration, "s", "Duration of an engine vacuum.");

    internal static readonly Counter<long> EngineVacuumReclaimedCounter = Meter.CreateCounter<long>(EngineVacuumReclaimed, "By", "Bytes engine vacuums gave back to the disk.");

    internal static readonly Histogram<double> EngineRecoveryHistogram = Meter.CreateHistogram<double>(EngineRecoveryDuration, "s", "Duration of the engine's recovery at open.");

    /// <summary>The backend tag of the engine's own measurements (the engine backend's registered name).</summary>
    internal static readonly KeyValuePair<string, object?> EngineTag = new(BackendTag, "engine");

    /// <summary>The backend tag for a measurement.</summary>
    internal static KeyValuePair<string, object?> Backend(string name) => new(BackendTag, name);

    /// <summary>True when a listener takes any of the add instruments or spans.</summary>
    internal static bool AddsObserved =>
        AddDurationHistogram.Enabled || MessagesAddedCounter.Enabled || BytesAddedCounter.Enabled || Source.HasListeners();

    /// <summary>Starts a span for an operation on a session (null when nobody listens).</summary>
    internal static Activity? StartSessionSpan(string name, string backend, string sessionId)
    {
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag(BackendTag, backend);
            activity.SetTag(SessionTag, sessionId);
        }
        return activity;
    }

    /// <summary>Marks a span failed with the exception's type (never its message, which may quote content).</summary>
    internal static void Fail(Activity? activity, Exception ex)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetStatus(ActivityStatusCode.Error);
        activity.SetTag("error.type", ex.GetType().FullName);
    }
}
