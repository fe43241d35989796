namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>A cancellation token for one test step: no step of these tests should take a minute.</summary>
internal static class Ct
{
    public static CancellationToken Token => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;
}
