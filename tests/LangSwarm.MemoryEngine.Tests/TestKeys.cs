namespace LangSwarm.MemoryEngine.Tests;

/// <summary>Fixed keys for tests (deterministic ids, so a failure names the same key on every run).</summary>
internal static class TestKeys
{
    public static readonly EncryptionKey A = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public static readonly EncryptionKey B = new(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());

    public static IKeyProvider Provider => KeyProvider.FromKey(A);
}
