using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LangSwarm.Memory.Hosting;

/// <summary>
/// Runs one store with the host: connects it at start (a store that cannot open stops the start; the retention
/// policy's first pass runs then, the next ones every interval), and at stop shuts the manager down: retention
/// and background summaries stop (a summary in flight is cancelled and stays owed in the store, queued again at
/// the next start), the backend flushes and closes (the engine checkpoints and closes its files), and nothing
/// reconnects afterwards.
/// </summary>
internal sealed class MemoryHostedService(MemoryStore store, ILogger logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.Backend.ConnectAsync(cancellationToken).ConfigureAwait(false);
        MemoryLog.HostStarted(logger, StoreName, store.Backend.Name);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await store.Manager.ShutdownAsync(cancellationToken).ConfigureAwait(false);
        MemoryLog.HostStopped(logger, StoreName);
    }

    private string StoreName => store.Name.Length == 0 ? "(default)" : store.Name;
}
