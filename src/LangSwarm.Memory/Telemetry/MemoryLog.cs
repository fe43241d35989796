using Microsoft.Extensions.Logging;

namespace LangSwarm.Memory;

/// <summary>
/// The log events of LangSwarm memory, source-generated with stable ids (<see cref="MemoryEventIds"/>). Events
/// name backends, sessions and counts; none carries message content.
/// </summary>
internal static partial class MemoryLog
{
    [LoggerMessage(EventId = MemoryEventIds.BackendConnected, Level = LogLevel.Information, Message = "Memory backend {Backend} connected in {ElapsedMs:F1} ms")]
    public static partial void BackendConnected(ILogger logger, string backend, double elapsedMs);

    [LoggerMessage(EventId = MemoryEventIds.BackendConnectFailed, Level = LogLevel.Error, Message = "Memory backend {Backend} could not connect")]
    public static partial void BackendConnectFailed(ILogger logger, string backend, Exception exception);

    [LoggerMessage(EventId = MemoryEventIds.BackendDisconnected, Level = LogLevel.Information, Message = "Memory backend {Backend} disconnected in {ElapsedMs:F1} ms")]
    public static partial void BackendDisconnected(ILogger logger, string backend, double elapsedMs);

    [LoggerMessage(EventId = MemoryEventIds.SummaryFailed, Level = LogLevel.Warning, Message = "Summarizing session {SessionId} on {Backend} failed (attempt {Attempt}); retrying in {RetryMs} ms")]
    public static partial void SummaryFailed(ILogger logger, string sessionId, string backend, int attempt, double retryMs, Exception exception);

    [LoggerMessage(EventId = MemoryEventIds.EvictionFailed, Level = LogLevel.Warning, Message = "Evicting from session {SessionId} on {Backend} failed; the next add retries")]
    public static partial void EvictionFailed(ILogger logger, string sessionId, string backend, Exception exception);

    [LoggerMessage(EventId = MemoryEventIds.RetentionPass, Message = "Retention pass on {Backend} deleted {Deleted} session(s) in {ElapsedMs:F1} ms")]
    public static partial void RetentionPass(ILogger logger, LogLevel level, string backend, int deleted, double elapsedMs);

    [LoggerMessage(EventId = MemoryEventIds.RetentionFailed, Level = LogLevel.Warning, Message = "Retention pass on {Backend} failed; retrying at the next interval")]
    public static partial void RetentionFailed(ILogger logger, string backend, Exception exception);

    [LoggerMessage(EventId = MemoryEventIds.HostStarted, Level = LogLevel.Information, Message = "Memory store {Store} started on backend {Backend}")]
    public static partial void HostStarted(ILogger logger, string store, string backend);

    [LoggerMessage(EventId = MemoryEventIds.HostStopped, Level = LogLevel.Information, Message = "Memory store {Store} stopped")]
    public static partial void HostStopped(ILogger logger, string store);

    [LoggerMessage(EventId = MemoryEventIds.HistoryLoaded, Level = LogLevel.Debug, Message = "Loaded {Count} message(s) of session {SessionId} within {Budget} tokens")]
    public static partial void HistoryLoaded(ILogger logger, int count, string sessionId, int budget);

    [LoggerMessage(EventId = MemoryEventIds.HistoryStored, Level = LogLevel.Debug, Message = "Stored {Count} message(s) in session {SessionId}")]
    public static partial void HistoryStored(ILogger logger, int count, string sessionId);

    [LoggerMessage(EventId = MemoryEventIds.HistoryReduced, Level = LogLevel.Debug, Message = "Reduced {Before} message(s) to {After} within {Budget} tokens")]
    public static partial void HistoryReduced(ILogger logger, int before, int after, int budget);

    [LoggerMessage(EventId = MemoryEventIds.StoreOpened, Level = LogLevel.Information, Message = "Engine store {Path} opened: {Sessions} session(s), {Messages} message(s); recovery replayed {LogRecords} log and {SegmentRecords} segment record(s) in {ElapsedMs:F1} ms (checkpoint loaded: {CheckpointLoaded})")]
    public static partial void StoreOpened(ILogger logger, string path, int sessions, long messages, long logRecords, long segmentRecords, double elapsedMs, bool checkpointLoaded);

    [LoggerMessage(EventId = MemoryEventIds.StoreDamageFound, Level = LogLevel.Warning, Message = "Engine store {Path}: damage in {File} at {Offset} ({Length} bytes): {Reason}")]
    public static partial void StoreDamageFound(ILogger logger, string path, string file, long offset, long length, string reason);

    [LoggerMessage(EventId = MemoryEventIds.TornTailCut, Level = LogLevel.Information, Message = "Engine store {Path}: cut {Bytes} torn byte(s) a crash left unsynced")]
    public static partial void TornTailCut(ILogger logger, string path, long bytes);

    [LoggerMessage(EventId = MemoryEventIds.LeftoversSwept, Level = LogLevel.Information, Message = "Engine sweep after an unclean open fixed {Files} segment file(s) a crash left behind ({Bytes} byte(s) cut or removed)")]
    public static partial void LeftoversSwept(ILogger logger, int files, long bytes);

    [LoggerMessage(EventId = MemoryEventIds.LeftoversSwept, Level = LogLevel.Warning, Message = "Engine store holds a file that is not the engine's, left alone: {File}")]
    public static partial void ForeignFile(ILogger logger, string file);

    [LoggerMessage(EventId = MemoryEventIds.SweepFailed, Level = LogLevel.Warning, Message = "Engine sweep after an unclean open failed; the next open sweeps again")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = MemoryEventIds.CheckpointCompleted, Level = LogLevel.Debug, Message = "Engine checkpoint completed in {ElapsedMs:F1} ms")]
    public static partial void CheckpointCompleted(ILogger logger, double elapsedMs);

    [LoggerMessage(EventId = MemoryEventIds.VacuumCompleted, Message = "Engine vacuum rewrote {Rewritten} session(s) and reclaimed {Reclaimed} byte(s) in {ElapsedMs:F1} ms")]
    public static partial void VacuumCompleted(ILogger logger, LogLevel level, int rewritten, long reclaimed, double elapsedMs);

    [LoggerMessage(EventId = MemoryEventIds.SlowFsync, Level = LogLevel.Warning, Message = "An fsync of the engine's commit log took {ElapsedMs:F0} ms")]
    public static partial void SlowFsync(ILogger logger, double elapsedMs);

    [LoggerMessage(EventId = MemoryEventIds.StoreWritableByOthers, Level = LogLevel.Warning, Message = "Engine store {Store}: users other than its owner can write {Paths}; anyone who can write them can change or destroy its conversations (chmod -R go-w)")]
    public static partial void StoreWritableByOthers(ILogger logger, string store, string paths);
}
