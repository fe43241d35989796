using LangSwarm.Memory.Conformance;

namespace LangSwarm.Memory.Sqlite.Tests;

/// <summary>A <c>:memory:</c> SQLite database against the shared conformance suite.</summary>
public sealed class SqliteMemoryConformanceTests : BackendConformanceTests
{
    protected override Task<IMemoryBackend> CreateBackendAsync() =>
        Task.FromResult<IMemoryBackend>(new SqliteBackend(SqliteBackendOptions.InMemoryPath));
}
