using System.Collections.Concurrent;
using System.Reflection;

namespace LangSwarm.Memory;

/// <summary>
/// Creates backends and managers from configurations. Knows the in-memory backend itself and discovers the
/// others (<c>engine</c>, <c>sqlite</c>, <c>redis</c>) from their assemblies when the application references them.
/// </summary>
public sealed class MemoryFactory
{
    private static readonly string[] KnownAssemblies = ["LangSwarm.MemoryEngine", "LangSwarm.Memory.Sqlite", "LangSwarm.Memory.Redis"];
    private static readonly Lazy<MemoryFactory> LazyDefault = new(() => new MemoryFactory());

    private readonly ConcurrentDictionary<string, IMemoryBackendProvider> _providers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _aliases = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates a factory; with <paramref name="discover"/>, registers every backend assembly present.</summary>
    public MemoryFactory(bool discover = true)
    {
        RegisterBackend(new InMemoryBackendProvider());
        if (discover)
        {
            Discover();
        }
    }

    /// <summary>The process-wide factory.</summary>
    public static MemoryFactory Default => LazyDefault.Value;

    /// <summary>Registers a backend kind under its name and aliases (replacing one of the same name).</summary>
    public void RegisterBackend(IMemoryBackendProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (string.IsNullOrWhiteSpace(provider.Name) || MemoryConfiguration.Presets.ContainsKey(provider.Name))
        {
            throw new ArgumentException($"'{provider.Name}' cannot be a backend name.", nameof(provider));
        }
        _providers[provider.Name] = provider;
        foreach (var a in provider.Aliases)
        {
            _aliases[a] = provider.Name;
        }
    }

    /// <summary>Registers a backend kind made by a delegate.</summary>
    public void RegisterBackend(string name, Func<BackendSettings, IMemoryBackend> create, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(create);
        RegisterBackend(new DelegateBackendProvider(name, create, description ?? "Custom backend"));
    }

    /// <summary>Registers a backend type with a parameterless constructor (the seed's <c>register_backend("custom", CustomBackend)</c>).</summary>
    public void RegisterBackend<TBackend>(string name)
        where TBackend : IMemoryBackend, new() =>
        RegisterBackend(name, settings =>
        {
            settings.EnsureOnly(name);
            return new TBackend();
        }, typeof(TBackend).Name);

    /// <summary>Names of the registered backends, sorted.</summary>
    public IReadOnlyList<string> GetAvailableBackends() => _providers.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>True when a backend of this name (or alias) is registered.</summary>
    public bool IsAvailable(string name) => _providers.ContainsKey(name) || _aliases.ContainsKey(name);

    /// <summary>Creates an unconnected backend for a configuration (presets resolved).</summary>
    public IMemoryBackend CreateBackend(MemoryConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var (name, settings) = Resolve(configuration);
        var key = _aliases.TryGetValue(name, out var canonical) ? canonical : name;
        if (!_providers.TryGetValue(key, out var provider))
        {
            throw new MemoryConfigurationException(
                $"Unknown memory backend '{configuration.Backend}'. Available backends: {string.Join(", ", GetAvailableBackends())}; " +
                $"presets: {string.Join(", ", MemoryConfiguration.Presets.Keys)}.");
        }
        return provider.Create(settings);
    }

    /// <summary>Creates a manager (it connects on first use).</summary>
    public IMemoryManager CreateManager(MemoryConfiguration configuration) => new MemoryManager(CreateBackend(configuration));

    /// <summary>Creates a manager and connects its backend.</summary>
    public async Task<IMemoryManager> CreateManagerAsync(MemoryConfiguration configuration, CancellationToken cancellationToken = default)
    {
        var backend = CreateBackend(configuration);
        try
        {
            await backend.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await backend.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new MemoryManager(backend);
    }

    private (string Name, BackendSettings Settings) Resolve(MemoryConfiguration c)
    {
        switch (c.Backend.ToLowerInvariant())
        {
            case "development":
                return (InMemoryBackend.BackendName, c.Settings);
            case "testing":
                // Never a file unless db_path names one: other options alone keep the database in memory.
                return IsAvailable("sqlite")
                    ? ("sqlite", c.Settings.GetString("db_path") is null ? c.Settings.With("db_path", ":memory:") : c.Settings)
                    : (InMemoryBackend.BackendName, c.Settings);
            case "production":
                if (IsAvailable("engine"))
                {
                    return ("engine", c.Settings);
                }
                if (IsAvailable("sqlite"))
                {
                    return ("sqlite", c.Settings.Keys.Any() ? c.Settings : new BackendSettings([new("db_path", "memory.db")]));
                }
                throw new MemoryConfigurationException(
                    $"The production preset needs the 'engine' or 'sqlite' backend; available: {string.Join(", ", GetAvailableBackends())}. " +
                    "Reference LangSwarm.MemoryEngine or LangSwarm.Memory.Sqlite.");
            default:
                return (c.Backend, c.Settings);
        }
    }

    private void Discover()
    {
        foreach (var name in KnownAssemblies)
        {
            try
            {
                RegisterFrom(Assembly.Load(new AssemblyName(name)));
            }
            catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                // Not referenced by this application: that backend is simply not available.
            }
        }
        foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (!asm.IsDynamic && Array.IndexOf(KnownAssemblies, asm.GetName().Name) < 0)
            {
                RegisterFrom(asm);
            }
        }
    }

    private void RegisterFrom(Assembly assembly)
    {
        foreach (var attr in assembly.GetCustomAttributes<MemoryBackendProviderAttribute>())
        {
            if (Activator.CreateInstance(attr.ProviderType) is IMemoryBackendProvider p)
            {
                RegisterBackend(p);
            }
        }
    }
}
