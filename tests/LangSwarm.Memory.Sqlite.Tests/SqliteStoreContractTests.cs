using LangSwarm.Memory.Conformance;

namespace LangSwarm.Memory.Sqlite.Tests;

/// <summary>The SQLite store over a file database in a fresh temp directory against the storage contract.</summary>
public sealed class SqliteFileStoreContractTests : SessionStoreContractTests
{
    private readonly TempDirectory _dir = new();

    private string DbPath => _dir.File("store.db");

    protected override ISessionStore CreateStore() => new SqliteSessionStore(new SqliteBackendOptions { DbPath = DbPath });

    /// <summary>A new store over the same file: a real reopen.</summary>
    protected override ISessionStore? ReopenStore() => CreateStore();

    protected override Task CleanupStorageAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The SQLite store over a <c>:memory:</c> database against the storage contract (nothing to reopen).</summary>
public sealed class SqliteMemoryStoreContractTests : SessionStoreContractTests
{
    protected override ISessionStore CreateStore() => new SqliteSessionStore(new SqliteBackendOptions { DbPath = SqliteBackendOptions.InMemoryPath });

    protected override ISessionStore? ReopenStore() => null;
}
