using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LangSwarm.Memory.Hosting;

/// <summary>
/// One configured store of the container: its backend, made by the backend's provider from the options (the
/// same path as every other configuration pattern, <see cref="MemoryFactory"/>), and the manager over it.
/// </summary>
internal sealed class MemoryStore : IAsyncDisposable
{
    private MemoryStore(string name, IMemoryBackend backend, IMemoryManager manager)
    {
        Name = name;
        Backend = backend;
        Manager = manager;
    }

    /// <summary>The store's name (<see cref="Microsoft.Extensions.Options.Options.DefaultName"/> for the unnamed one).</summary>
    public string Name { get; }

    /// <summary>The backend (connected by the hosted service, or on first use).</summary>
    public IMemoryBackend Backend { get; }

    /// <summary>The manager, applying the configured session defaults.</summary>
    public IMemoryManager Manager { get; }

    /// <summary>The configuration the options describe: backend (or preset) with its options and retention.</summary>
    public static MemoryConfiguration Configuration(LangSwarmMemoryOptions options)
    {
        var settings = new BackendSettings(options.Options.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)));
        return new MemoryConfiguration(options.Backend, options.Retention.AddTo(settings));
    }

    /// <summary>Makes the store (unconnected).</summary>
    public static MemoryStore Create(string name, LangSwarmMemoryOptions options, IServiceProvider services)
    {
        var backend = MemoryFactory.Default.CreateBackend(Configuration(options));
        if (backend is MemoryBackendBase own)
        {
            own.Logger = services.GetService<ILoggerFactory>()?.CreateLogger("LangSwarm.Memory") ?? NullLogger.Instance;
            if (Summarizer(options.Summarizer, services) is { } summarizer)
            {
                own.Summarizer = summarizer;
            }
            var s = options.Summarizer;
            own.BackgroundSummaries.MaxConcurrency = s.MaxConcurrency ?? own.BackgroundSummaries.MaxConcurrency;
            own.BackgroundSummaries.RetryDelay = s.RetryDelay ?? own.BackgroundSummaries.RetryDelay;
            own.BackgroundSummaries.MaxRetryDelay = s.MaxRetryDelay ?? own.BackgroundSummaries.MaxRetryDelay;
        }
        return new MemoryStore(name, backend, new ConfiguredMemoryManager(new MemoryManager(backend), options.Sessions));
    }

    /// <summary>The chat-client summarizer when configured (null: the backend's default, extractive).</summary>
    private static ChatClientSummarizer? Summarizer(MemorySummarizerOptions options, IServiceProvider services)
    {
        if (!string.Equals(options.Kind, MemorySummarizerOptions.ChatClient, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var client = options.ChatClientKey is { } key
            ? services.GetRequiredKeyedService<IChatClient>(key)
            : services.GetRequiredService<IChatClient>();
        return new ChatClientSummarizer(client, prompt: options.Prompt);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await Manager.ShutdownAsync().ConfigureAwait(false);
}
