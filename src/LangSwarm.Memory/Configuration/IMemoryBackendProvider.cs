namespace LangSwarm.Memory;

/// <summary>Makes backends of one kind from settings; a backend assembly names its providers with <see cref="MemoryBackendProviderAttribute"/>.</summary>
public interface IMemoryBackendProvider
{
    /// <summary>The name configurations use (<c>sqlite</c>).</summary>
    string Name { get; }

    /// <summary>Other names accepted for it.</summary>
    IReadOnlyCollection<string> Aliases => [];

    /// <summary>One line on what the backend is.</summary>
    string Description { get; }

    /// <summary>Creates an unconnected backend; bad settings fail with <see cref="MemoryConfigurationException"/>.</summary>
    IMemoryBackend Create(BackendSettings settings);
}

/// <summary>Marks an assembly as offering a backend, so <see cref="MemoryFactory"/> finds it when the assembly is present.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class MemoryBackendProviderAttribute : Attribute
{
    /// <summary>Names the provider type (a public class with a parameterless constructor).</summary>
    public MemoryBackendProviderAttribute(Type providerType)
    {
        ProviderType = providerType;
    }

    /// <summary>The provider type.</summary>
    public Type ProviderType { get; }
}

/// <summary>A provider over a delegate, for <see cref="MemoryFactory.RegisterBackend(string, Func{BackendSettings, IMemoryBackend}, string?)"/>.</summary>
internal sealed class DelegateBackendProvider(string name, Func<BackendSettings, IMemoryBackend> create, string description) : IMemoryBackendProvider
{
    public string Name => name;

    public string Description => description;

    public IMemoryBackend Create(BackendSettings settings) => create(settings);
}

/// <summary>The built-in in-memory provider.</summary>
internal sealed class InMemoryBackendProvider : IMemoryBackendProvider
{
    public string Name => InMemoryBackend.BackendName;

    public IReadOnlyCollection<string> Aliases => ["memory", "inmemory", "in-memory"];

    public string Description => "Process memory; for development and tests. Nothing survives the process.";

    public IMemoryBackend Create(BackendSettings settings)
    {
        settings.EnsureOnly(Name, [.. RetentionPolicy.OptionNames]);
        return new InMemoryBackend { Retention = RetentionPolicy.FromSettings(settings) };
    }
}
