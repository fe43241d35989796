namespace LangSwarm.Memory;

/// <summary>How a backend's background summarizer runs (<see cref="MemoryBackendBase.BackgroundSummaries"/>).</summary>
public sealed class BackgroundSummaryOptions
{
    private int _maxConcurrency = 2;
    private TimeSpan _retryDelay = TimeSpan.FromSeconds(1);
    private TimeSpan _maxRetryDelay = TimeSpan.FromMinutes(1);

    /// <summary>Sessions summarized at the same time (summarizer calls in flight), at least 1. Default 2.</summary>
    public int MaxConcurrency
    {
        get => _maxConcurrency;
        set => _maxConcurrency = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxConcurrency must be at least 1.");
    }

    /// <summary>Wait before the first retry after a summarizer failure; doubles per failure. Default 1 s.</summary>
    public TimeSpan RetryDelay
    {
        get => _retryDelay;
        set => _retryDelay = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "RetryDelay must be positive.");
    }

    /// <summary>The longest wait between retries. Default 1 min.</summary>
    public TimeSpan MaxRetryDelay
    {
        get => _maxRetryDelay;
        set => _maxRetryDelay = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxRetryDelay must be positive.");
    }

    /// <summary>The wait before retry number <paramref name="attempt"/> (1-based).</summary>
    internal TimeSpan Backoff(int attempt)
    {
        var ticks = RetryDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30));
        return ticks >= MaxRetryDelay.Ticks ? MaxRetryDelay : TimeSpan.FromTicks((long)ticks);
    }
}
