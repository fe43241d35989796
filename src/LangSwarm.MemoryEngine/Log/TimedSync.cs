using System.Diagnostics;
using LangSwarm.Memory;
using Microsoft.Extensions.Logging;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>An fsync of the commit log, measured (<see cref="MemoryTelemetry.EngineFsyncDuration"/>) and logged when slow.</summary>
internal static class TimedSync
{
    /// <summary>An fsync slower than this is worth a warning: the disk is struggling and every Strict add waits for it.</summary>
    public static readonly TimeSpan Slow = TimeSpan.FromSeconds(1);

    /// <summary>fsyncs <paramref name="file"/>.</summary>
    public static void Flush(IStorageFile file, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        file.Flush();
        var elapsed = Stopwatch.GetElapsedTime(started);
        MemoryTelemetry.EngineFsyncHistogram.Record(elapsed.TotalSeconds, MemoryTelemetry.EngineTag);
        if (elapsed >= Slow)
        {
            MemoryLog.SlowFsync(logger, elapsed.TotalMilliseconds);
        }
    }
}
