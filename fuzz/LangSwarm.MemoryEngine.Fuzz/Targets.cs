namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>The fuzz targets by name.</summary>
public static class Targets
{
    /// <summary>Every target name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["record", "scan", "index", "store", "json"];

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>; throws <see cref="InvariantViolationException"/> on a crash.</summary>
    public static void Run(string target, ReadOnlySpan<byte> input)
    {
        switch (target)
        {
            case "record":
                FormatTargets.Record(input);
                break;
            case "scan":
                FormatTargets.Scan(input);
                break;
            case "index":
                FormatTargets.Index(input);
                break;
            case "store":
                StoreTarget.Run(input);
                break;
            case "json":
                JsonTarget.Run(input);
                break;
            default:
                throw new ArgumentException($"Unknown target '{target}'; targets: {string.Join(", ", Names)}.", nameof(target));
        }
    }

    /// <summary>
    /// Runs a target and checks the allocation bound: no input may make a target allocate more than a fixed
    /// budget plus a multiple of its size (a length read from the input must never size an allocation).
    /// </summary>
    public static void RunChecked(string target, ReadOnlySpan<byte> input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(target, input);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var budget = AllocationBudget + (2048L * input.Length);
        Invariants.Check(allocated <= budget, $"target '{target}' allocated {allocated:N0} bytes for a {input.Length}-byte input (budget {budget:N0})");
    }

    /// <summary>Fixed allocation allowance per input (a record payload may legitimately be up to 16 MiB).</summary>
    public const long AllocationBudget = 64L * 1024 * 1024;
}
