using LangSwarm.MemoryEngine;

namespace LangSwarm.Memory.Cli;

/// <summary>What a command means to do with a store.</summary>
internal enum StoreAccessMode
{
    /// <summary>The command writes (import, migrate's target, vacuum, demo).</summary>
    ReadWrite,

    /// <summary>
    /// The command only reads (show, sessions, stats, export, verify, migrate's source). Such a command refuses a
    /// store that does not exist instead of creating one, and opens an engine store as a read-only view
    /// (<see cref="EngineOptions.ReadOnly"/>): it works beside an agent that holds the store, and never writes to it.
    /// </summary>
    Read,
}

/// <summary>
/// The one way every lsmem command opens a store: from a <see cref="StoreSpec"/> and what the command means to
/// do with it, to a connected backend that is closed when the <see cref="OpenStore"/> is disposed.
/// </summary>
internal static class StoreAccess
{
    /// <summary>Opens and connects the store a spec names.</summary>
    /// <exception cref="CliUsageException">The spec names a migration-only source, or a store to read that does not exist.</exception>
    /// <remarks>A read-only view beside a live writer says on <paramref name="io"/>'s error stream (never stdout, which may carry JSON) how fresh it is.</remarks>
    public static async Task<OpenStore> OpenAsync(StoreSpec spec, StoreAccessMode mode, CancellationToken cancellationToken, CliIO? io = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Backend == StoreSpec.V1Sqlite)
        {
            throw new CliUsageException("v1_sqlite is a migration source only: lsmem migrate --from v1_sqlite:PATH --to BACKEND:OPTIONS.");
        }
        if (mode == StoreAccessMode.Read)
        {
            EnsureExists(spec);
        }
        var settings = mode == StoreAccessMode.Read && spec.Backend == EngineBackend.BackendName ? spec.Settings.With("read_only", true) : spec.Settings;
        var backend = CreateBackend(spec.Backend, settings);
        try
        {
            await backend.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await backend.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (io is not null && backend is EngineBackend { Snapshot: { WriterActive: true } view })
        {
            await io.Err.WriteLineAsync(Freshness(view)).ConfigureAwait(false);
        }
        return new OpenStore(spec, backend, mode);
    }

    /// <summary>
    /// An unconnected backend. An engine store gets the key in <c>LSMEM_KEY</c> (and <c>LSMEM_PREVIOUS_KEYS</c>) of
    /// this run's environment (<see cref="CliEnvironment"/>) unless its spec names encryption settings itself.
    /// </summary>
    public static IMemoryBackend CreateBackend(string backend, BackendSettings settings) =>
        backend == EngineBackend.BackendName
            ? new EngineBackendProvider(CliEnvironment.Get).Create(CliEnvironment.WithKeys(settings))
            : MemoryFactory.Default.CreateBackend(new MemoryConfiguration(backend, settings));

    /// <summary>Opens the engine store at <paramref name="path"/> with the key settings of <paramref name="spec"/> and this run's environment, and verifies it.</summary>
    public static async Task<VerifyReport> VerifyCopyAsync(StoreSpec spec, string path, CancellationToken cancellationToken)
    {
        // Only the location and the key settings: the copy is opened to be checked, never with the store's retention or tuning.
        var settings = new BackendSettings(spec.Settings.Keys.Where(k => k.StartsWith("encryption", StringComparison.OrdinalIgnoreCase)).Select(k => new KeyValuePair<string, object?>(k, spec.Settings.GetString(k))));
        await using var backend = (EngineBackend)CreateBackend(EngineBackend.BackendName, settings.With("path", path));
        await backend.ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await backend.VerifyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One line on how fresh a read-only view of a store another process holds is (a store nobody holds needs none).</summary>
    public static string Freshness(ReadOnlySnapshot view) =>
        $"read-only view as of {view.TakenAt:HH:mm:ss} UTC; another process holds the store, and what it adds later is not shown.";

    private static void EnsureExists(StoreSpec spec)
    {
        var location = spec.Location;
        var missing = spec.Backend switch
        {
            "engine" => location is not null && !Directory.Exists(location),
            "sqlite" => location is not null && location != ":memory:" && !File.Exists(location),
            _ => false,
        };
        if (missing)
        {
            throw new CliUsageException($"no {spec.Backend} store at '{location}'.");
        }
    }
}

/// <summary>A connected store; disposing it disconnects (the engine checkpoints and closes its files).</summary>
internal sealed class OpenStore(StoreSpec spec, IMemoryBackend backend, StoreAccessMode mode) : IAsyncDisposable
{
    /// <summary>What was opened.</summary>
    public StoreSpec Spec { get; } = spec;

    /// <summary>The connected backend.</summary>
    public IMemoryBackend Backend { get; } = backend;

    /// <summary>How it was opened.</summary>
    public StoreAccessMode Mode { get; } = mode;

    /// <summary>The engine behind the store; a usage error for other backends.</summary>
    public EngineBackend Engine(string command) =>
        Backend as EngineBackend ?? throw new CliUsageException($"{command} works on engine stores only (this is {Backend.Name}).");

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Backend.DisposeAsync();
}
