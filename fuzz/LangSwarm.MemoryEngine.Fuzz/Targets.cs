namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>The fuzz targets by name.</summary>
public static class Targets
{
    /// <summary>Every target name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["record", "scan", "index", "store", "json", "record-sealed", "index-sealed", "store-sealed"];

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
            case "record-sealed":
                FormatTargets.RecordSealed(input);
                break;
            case "index-sealed":
                FormatTargets.IndexSealed(input);
                break;
            case "store-sealed":
                StoreTarget.RunSealed(input);
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
        var bytes = input.ToArray();
        WithinAllocationBudget($"target '{target}'", bytes.Length, () => Run(target, bytes));
    }

    /// <summary>
    /// Runs <paramref name="action"/> and throws <see cref="InvariantViolationException"/> when the process
    /// allocated more than <see cref="Budget"/> for an input of <paramref name="inputLength"/> bytes meanwhile.
    /// Counts every thread (the engine's commit-log flusher, background checkpoints, thread-pool continuations of
    /// its async paths), not only the caller's, so a run that is the only work in the process is measured whole.
    /// </summary>
    public static void WithinAllocationBudget(string what, int inputLength, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        action();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        var budget = Budget(inputLength);
        Invariants.Check(allocated <= budget, $"{what} allocated {allocated:N0} bytes for a {inputLength}-byte input (budget {budget:N0})");
    }

    /// <summary>The most one input of <paramref name="inputLength"/> bytes may allocate: 64 MiB + 2 KiB per input byte.</summary>
    public static long Budget(int inputLength) => AllocationBudget + (AllocationPerInputByte * inputLength);

    /// <summary>Fixed allocation allowance per input (a record payload may legitimately be up to 16 MiB).</summary>
    public const long AllocationBudget = 64L * 1024 * 1024;

    /// <summary>Allocation allowed per input byte on top of <see cref="AllocationBudget"/>.</summary>
    public const long AllocationPerInputByte = 2048;
}
