using System.CommandLine;
using LangSwarm.Memory;

namespace LangSwarm.Memory.Cli;

/// <summary>The options every store command shares: which backend, and where its data lives.</summary>
internal static class StoreOptions
{
    public static readonly Option<string?> Backend = new("--backend", "-b")
    {
        Description = "Backend name (engine, sqlite, redis, in_memory) or preset (development, testing, production). Default: the embedded engine when available.",
    };

    public static readonly Option<string?> Store = new("--store", "-s")
    {
        Description = "Store location: a directory for the engine, a file for sqlite, or BACKEND:OPTIONS (engine:/dir, sqlite:/file.db, redis:host:port). Default: $LSMEM_STORE or ~/.local/share/langswarm/memory.",
    };

    /// <summary>The default store directory.</summary>
    public static string DefaultStorePath() =>
        Environment.GetEnvironmentVariable("LSMEM_STORE") is { Length: > 0 } env
            ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "langswarm", "memory");

    /// <summary>Builds the configuration the options name.</summary>
    public static MemoryConfiguration Resolve(string? backend, string? store)
    {
        var factory = MemoryFactory.Default;
        var name = backend ?? (factory.IsAvailable("engine") ? "engine" : InMemoryBackend.BackendName);
        var path = store ?? DefaultStorePath();
        var settings = name.ToLowerInvariant() switch
        {
            "engine" => new BackendSettings([new("path", path)]),
            "sqlite" => new BackendSettings([new("db_path", store ?? Path.Combine(path, "memory.db"))]),
            _ => new BackendSettings(),
        };
        if (name is "sqlite" && store is null)
        {
            Directory.CreateDirectory(path);
        }
        return new MemoryConfiguration(name, settings);
    }

    /// <summary>The store the parsed <c>--backend</c> and <c>--store</c> name.</summary>
    public static StoreSpec Spec(ParseResult parseResult) => StoreSpec.FromOptions(parseResult.GetValue(Backend), parseResult.GetValue(Store));

    public static void AddTo(Command command)
    {
        command.Options.Add(Backend);
        command.Options.Add(Store);
    }
}
