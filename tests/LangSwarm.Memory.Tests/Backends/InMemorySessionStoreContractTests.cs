using LangSwarm.Memory.Conformance;

namespace LangSwarm.Memory.Tests.Backends;

/// <summary>The storage contract on the in-memory store (not persistent: nothing to reopen).</summary>
public sealed class InMemorySessionStoreContractTests : SessionStoreContractTests
{
    /// <inheritdoc />
    protected override ISessionStore CreateStore() => new InMemorySessionStore();

    /// <inheritdoc />
    protected override ISessionStore? ReopenStore() => null;
}
