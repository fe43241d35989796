namespace LangSwarm.Memory;

/// <summary>
/// Keeps everything in process memory: zero setup, sub-microsecond operations, gone when the process ends.
/// The reference behaviour the persistent backends are tested against.
/// </summary>
public sealed class InMemoryBackend : MemoryBackendBase
{
    /// <summary>The registered name.</summary>
    public const string BackendName = "in_memory";

    /// <summary>Creates an empty store.</summary>
    public InMemoryBackend(ITokenCounter? tokenCounter = null, ISummarizer? summarizer = null)
        : base(new InMemorySessionStore(), tokenCounter, summarizer)
    {
    }

    /// <inheritdoc />
    public override string Name => BackendName;
}
