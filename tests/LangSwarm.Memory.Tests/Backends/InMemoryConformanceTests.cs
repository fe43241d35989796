using LangSwarm.Memory.Conformance;

namespace LangSwarm.Memory.Tests.Backends;

/// <summary>The in-memory backend against the shared conformance suite.</summary>
public sealed class InMemoryConformanceTests : BackendConformanceTests
{
    protected override Task<IMemoryBackend> CreateBackendAsync() => Task.FromResult<IMemoryBackend>(new InMemoryBackend());
}
