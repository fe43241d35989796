using BenchmarkDotNet.Running;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Bench.Workloads;

namespace LangSwarm.MemoryEngine.Bench;

/// <summary>
/// <c>micro [BenchmarkDotNet args]</c>: hot-path benchmarks. <c>macro [--quick] [--out DIR] [--scale]</c>: every backend side
/// by side. <c>macro-one ...</c>: the child process of M1; <c>macro-scale ...</c>: S2's.
/// </summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static async Task<int> Main(string[] args)
    {
        var mode = args.Length > 0 ? args[0] : string.Empty;
        switch (mode)
        {
            case "micro":
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..]);
                return 0;
            case "macro" when args.Length > 1 && args[1] is "--help" or "-h":
                Console.WriteLine("usage: LangSwarm.MemoryEngine.Bench " + MacroOptions.Usage);
                return 0;
            case "macro":
                return await Harness.RunAsync(args[1..]).ConfigureAwait(false);
            case "macro-one":
                return await PeakMemory.ChildAsync(args[1..]).ConfigureAwait(false);
            case "macro-scale":
                return await ScaleChild.RunAsync(args[1..]).ConfigureAwait(false);
            default:
                await Console.Error.WriteLineAsync(
                    "usage: LangSwarm.MemoryEngine.Bench micro [--filter *] [BenchmarkDotNet options]\n" +
                    "       LangSwarm.MemoryEngine.Bench " + MacroOptions.Usage).ConfigureAwait(false);
                return 2;
        }
    }
}
