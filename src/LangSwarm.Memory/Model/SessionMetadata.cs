using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>Configuration and state of one conversation session.</summary>
public sealed class SessionMetadata
{
    private DateTimeOffset _createdAt;
    private DateTimeOffset _updatedAt;
    private JsonObject _metadata;

    /// <summary>Creates metadata with the seed's defaults.</summary>
    public SessionMetadata()
    {
        _createdAt = DateTimeOffset.UtcNow;
        _updatedAt = _createdAt;
        _metadata = new JsonObject();
    }

    /// <summary>Creates metadata for a session id and optional owner.</summary>
    public SessionMetadata(string sessionId, string? userId = null)
        : this()
    {
        SessionId = sessionId;
        UserId = userId;
    }

    /// <summary>
    /// The copy behind <see cref="Clone"/>. Backends clone session state on every add, so this skips what the
    /// public constructor does only to be overwritten (a clock read, an empty JsonObject); an empty metadata
    /// object is copied as a new empty one without walking it.
    /// </summary>
    private SessionMetadata(SessionMetadata source)
    {
        SessionId = source.SessionId;
        UserId = source.UserId;
        _createdAt = source._createdAt;
        _updatedAt = source._updatedAt;
        Status = source.Status;
        MaxMessages = source.MaxMessages;
        MaxTokens = source.MaxTokens;
        AutoSummarizeThreshold = source.AutoSummarizeThreshold;
        EvictionLowWater = source.EvictionLowWater;
        SummaryStrategy = source.SummaryStrategy;
        _metadata = source._metadata.Count == 0 ? new JsonObject(source._metadata.Options) : (JsonObject)source._metadata.DeepClone();
    }

    /// <summary>The caller's session identifier (never used as a file name by any backend).</summary>
    public string SessionId { get; set; } = string.Empty;

    /// <summary>The owning user; a session is only ever handed to its owner by <c>GetOrCreateSessionAsync</c>.</summary>
    public string? UserId { get; set; }

    /// <summary>Creation time (UTC).</summary>
    public DateTimeOffset CreatedAt
    {
        get => _createdAt;
        set => _createdAt = value.ToUniversalTime();
    }

    /// <summary>Last activity (UTC): creation, a message, a metadata change or an archive.</summary>
    public DateTimeOffset UpdatedAt
    {
        get => _updatedAt;
        set => _updatedAt = value.ToUniversalTime();
    }

    /// <summary>Lifecycle state.</summary>
    public SessionStatus Status { get; set; } = SessionStatus.Active;

    /// <summary>
    /// Most live (non-evicted) messages kept; beyond it the oldest non-system messages leave the window, down to
    /// <see cref="EvictionLowWater"/> of this limit.
    /// </summary>
    public int MaxMessages { get; set; } = 1000;

    /// <summary>
    /// Most live tokens kept; beyond it the oldest non-system messages leave the window, down to
    /// <see cref="EvictionLowWater"/> of this limit.
    /// </summary>
    public int MaxTokens { get; set; } = 32000;

    /// <summary>
    /// How far eviction goes once a limit is passed, as a fraction of each limit, in (0, 1]; default
    /// <see cref="DefaultEvictionLowWater"/> (update key <c>eviction_low_water</c>).
    /// </summary>
    /// <remarks>
    /// When an add takes the live window over <see cref="MaxMessages"/> or <see cref="MaxTokens"/>, the oldest
    /// non-system messages are evicted in whole call blocks (an assistant tool call never leaves without its
    /// results, nor they without it) until the window holds at most <c>floor(EvictionLowWater × MaxMessages)</c>
    /// messages and at most <c>floor(EvictionLowWater × MaxTokens)</c> tokens. Unless the strategy is manual or
    /// the threshold is 0, what leaves is summarized first, in one summary per eviction: with the default 0.8
    /// that is one summarizer call per 20 % of a limit's worth of adds, not one per add. 1 evicts just enough
    /// to get back under the limits. System messages and the newest block are never evicted.
    /// </remarks>
    public double EvictionLowWater { get; set; } = DefaultEvictionLowWater;

    /// <summary>The default <see cref="EvictionLowWater"/>: eviction goes down to 80 % of each limit.</summary>
    public const double DefaultEvictionLowWater = 0.8;

    /// <summary>New messages after which a summary is made automatically (see <see cref="SummaryStrategy"/>).</summary>
    public int AutoSummarizeThreshold { get; set; } = 100;

    /// <summary>How the session summarizes itself.</summary>
    public SummaryStrategy SummaryStrategy { get; set; } = SummaryStrategy.Periodic;

    /// <summary>Free-form metadata; round-trips exactly.</summary>
    public JsonObject Metadata
    {
        get => _metadata;
        set => _metadata = value ?? new JsonObject();
    }

    /// <summary>A deep copy.</summary>
    public SessionMetadata Clone() => new(this);
}
