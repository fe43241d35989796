namespace LangSwarm.Memory.Hosting;

/// <summary>
/// One memory store as configuration describes it (the section given to
/// <c>services.AddLangSwarmMemory(configuration)</c>):
/// <code>
/// "LangSwarm": { "Memory": {
///   "Backend": "engine",
///   "Options": { "path": "/var/lib/agent/memory", "durability": "Strict" },
///   "Sessions": { "MaxTokens": 32000, "AutoSummarizeThreshold": 100 },
///   "Retention": { "MaxAgeDays": 90, "ArchivedMaxAgeDays": 30 },
///   "Summarizer": { "Kind": "extractive" } } }
/// </code>
/// Checked when the host starts (<c>ValidateOnStart</c>): a bad value stops the start with a message naming it.
/// </summary>
public sealed class LangSwarmMemoryOptions
{
    /// <summary>
    /// A backend name (<c>engine</c>, <c>sqlite</c>, <c>redis</c>, <c>in_memory</c>, or a registered one) or a preset
    /// (<c>development</c>, <c>testing</c>, <c>production</c>). Backends are those of the assemblies the app
    /// references. Default <c>production</c>.
    /// </summary>
    public string Backend { get; set; } = "production";

    /// <summary>
    /// The backend's options, as its provider names them (snake_case or PascalCase: <c>path</c>, <c>db_path</c>,
    /// <c>host</c>, ...). An unknown one stops the host's start with the list of valid ones.
    /// </summary>
    public Dictionary<string, string?> Options { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Defaults for the sessions the store's manager creates.</summary>
    public MemorySessionDefaults Sessions { get; set; } = new();

    /// <summary>What the store deletes by itself in the background.</summary>
    public MemoryRetentionOptions Retention { get; set; } = new();

    /// <summary>How the store summarizes long conversations.</summary>
    public MemorySummarizerOptions Summarizer { get; set; } = new();
}

/// <summary>Session defaults; each unset value keeps the library's default (<see cref="SessionMetadata"/>).</summary>
public sealed class MemorySessionDefaults
{
    /// <summary>Most live messages per session.</summary>
    public int? MaxMessages { get; set; }

    /// <summary>Most live tokens per session.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Messages between automatic summaries (0: none).</summary>
    public int? AutoSummarizeThreshold { get; set; }

    /// <summary>Fraction of each limit an eviction goes down to, in (0, 1].</summary>
    public double? EvictionLowWater { get; set; }

    /// <summary>The summary strategy (<c>Rolling</c>, <c>Periodic</c>, <c>Manual</c>).</summary>
    public SummaryStrategy? SummaryStrategy { get; set; }

    /// <summary>Applies the values that are set.</summary>
    internal void ApplyTo(SessionMetadata m)
    {
        m.MaxMessages = MaxMessages ?? m.MaxMessages;
        m.MaxTokens = MaxTokens ?? m.MaxTokens;
        m.AutoSummarizeThreshold = AutoSummarizeThreshold ?? m.AutoSummarizeThreshold;
        m.EvictionLowWater = EvictionLowWater ?? m.EvictionLowWater;
        m.SummaryStrategy = SummaryStrategy ?? m.SummaryStrategy;
    }
}

/// <summary>The retention policy (<see cref="RetentionPolicy"/>); nothing is deleted while both ages are unset.</summary>
public sealed class MemoryRetentionOptions
{
    /// <summary>Any session idle this many days is deleted.</summary>
    public int? MaxAgeDays { get; set; }

    /// <summary>Archived sessions idle this many days are deleted.</summary>
    public int? ArchivedMaxAgeDays { get; set; }

    /// <summary>Time between passes (default one hour); the first pass runs when the store starts.</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>These values as the backend options <see cref="RetentionPolicy.FromSettings"/> reads.</summary>
    internal BackendSettings AddTo(BackendSettings settings)
    {
        if (MaxAgeDays is { } age)
        {
            settings = settings.With("max_age_days", age);
        }
        if (ArchivedMaxAgeDays is { } archived)
        {
            settings = settings.With("archived_max_age_days", archived);
        }
        if (Interval is { } interval)
        {
            settings = settings.With("retention_interval_ms", (long)interval.TotalMilliseconds);
        }
        return settings;
    }
}

/// <summary>The summarizer of a store.</summary>
public sealed class MemorySummarizerOptions
{
    /// <summary>The extractive summarizer (no LLM).</summary>
    public const string Extractive = "extractive";

    /// <summary>An LLM through the <c>IChatClient</c> in the container (<see cref="ChatClientKey"/> for a keyed one).</summary>
    public const string ChatClient = "chat_client";

    /// <summary><see cref="Extractive"/> (default) or <see cref="ChatClient"/>.</summary>
    public string Kind { get; set; } = Extractive;

    /// <summary>With <see cref="ChatClient"/>: the service key of the <c>IChatClient</c> to use (unset: the unkeyed one).</summary>
    public string? ChatClientKey { get; set; }

    /// <summary>With <see cref="ChatClient"/>: the system prompt (unset: <see cref="ChatClientSummarizer.DefaultPrompt"/>).</summary>
    public string? Prompt { get; set; }

    /// <summary>Sessions summarized at once in the background (default 2).</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>Wait before the first retry of a failed summary (default 1 s; doubles per failure).</summary>
    public TimeSpan? RetryDelay { get; set; }

    /// <summary>Longest wait between retries (default 1 min).</summary>
    public TimeSpan? MaxRetryDelay { get; set; }
}
