using LangSwarm.Memory.Conformance;

namespace LangSwarm.Memory.Sqlite.Tests;

/// <summary>A SQLite file database in a fresh temp directory against the shared conformance suite.</summary>
public sealed class SqliteFileConformanceTests : BackendConformanceTests
{
    private readonly TempDirectory _dir = new();

    private string DbPath => _dir.File("memory.db");

    protected override Task<IMemoryBackend> CreateBackendAsync() =>
        Task.FromResult<IMemoryBackend>(new SqliteBackend(new SqliteBackendOptions { DbPath = DbPath }));

    /// <summary>Disposes the backend and opens a new instance over the same file: a real reopen.</summary>
    protected override async Task<IMemoryBackend> ReopenAsync(IMemoryBackend backend)
    {
        await backend.DisposeAsync();
        var reopened = new SqliteBackend(new SqliteBackendOptions { DbPath = DbPath });
        await reopened.ConnectAsync();
        return reopened;
    }

    protected override Task CleanupStorageAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
