using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using LangSwarm.Memory;
using LangSwarm.Memory.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers LangSwarm memory stores in a service collection.</summary>
public static class MemoryServiceCollectionExtensions
{
    /// <summary>
    /// Adds the memory store described by <paramref name="configuration"/> (e.g.
    /// <c>builder.Configuration.GetSection("LangSwarm:Memory")</c>, see <see cref="LangSwarmMemoryOptions"/>):
    /// <see cref="IMemoryManager"/> and <see cref="IMemoryBackend"/> resolve to it, its options are validated when
    /// the host starts, and a hosted service connects it at start and closes it at stop.
    /// </summary>
    public static IServiceCollection AddLangSwarmMemory(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddLangSwarmMemoryCore(Options.Options.DefaultName, o => o.Bind(configuration));
    }

    /// <summary>Adds the memory store configured in code (see <see cref="AddLangSwarmMemory(IServiceCollection, IConfiguration)"/>).</summary>
    public static IServiceCollection AddLangSwarmMemory(this IServiceCollection services, Action<LangSwarmMemoryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddLangSwarmMemoryCore(Options.Options.DefaultName, o => o.Configure(configure));
    }

    /// <summary>
    /// Adds a named store, for apps with more than one: its <see cref="IMemoryManager"/> and
    /// <see cref="IMemoryBackend"/> are keyed services under <paramref name="name"/>
    /// (<c>[FromKeyedServices("archive")] IMemoryManager archive</c>).
    /// </summary>
    public static IServiceCollection AddLangSwarmMemory(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddLangSwarmMemoryCore(name, o => o.Bind(configuration));
    }

    /// <summary>Adds a named store configured in code (see <see cref="AddLangSwarmMemory(IServiceCollection, string, IConfiguration)"/>).</summary>
    public static IServiceCollection AddLangSwarmMemory(this IServiceCollection services, string name, Action<LangSwarmMemoryOptions> configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddLangSwarmMemoryCore(name, o => o.Configure(configure));
    }

    private static IServiceCollection AddLangSwarmMemoryCore(this IServiceCollection services, string name, Action<OptionsBuilder<LangSwarmMemoryOptions>> bind)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<LangSwarmMemoryOptions>(name);
        bind(builder);
        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LangSwarmMemoryOptions>, LangSwarmMemoryOptionsValidator>());
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(MemoryStore) && Equals(d.ServiceKey, name)))
        {
            return services; // the store is registered: a second call only adds configuration
        }

        services.AddKeyedSingleton(name, (sp, _) =>
            MemoryStore.Create(name, sp.GetRequiredService<IOptionsMonitor<LangSwarmMemoryOptions>>().Get(name), sp));
        services.AddSingleton<IHostedService>(sp => new MemoryHostedService(
            sp.GetRequiredKeyedService<MemoryStore>(name),
            sp.GetService<ILoggerFactory>()?.CreateLogger("LangSwarm.Memory.Hosting") ?? NullLogger.Instance));
        if (name.Length == 0)
        {
            services.AddSingleton(sp => sp.GetRequiredKeyedService<MemoryStore>(name).Manager);
            services.AddSingleton(sp => sp.GetRequiredKeyedService<MemoryStore>(name).Backend);
        }
        else
        {
            services.AddKeyedSingleton(name, (sp, _) => sp.GetRequiredKeyedService<MemoryStore>(name).Manager);
            services.AddKeyedSingleton(name, (sp, _) => sp.GetRequiredKeyedService<MemoryStore>(name).Backend);
        }
        return services;
    }
}
