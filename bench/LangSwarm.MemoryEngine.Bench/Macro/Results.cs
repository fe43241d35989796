namespace LangSwarm.MemoryEngine.Bench.Macro;

/// <summary>One figure: the median over repetitions with its spread; latencies carry a p99.</summary>
public sealed record Measure(double Median, double Min, double Max, double? P99 = null, double? MegabytesPerSecond = null, string? Note = null)
{
    /// <summary>MB/s ÷ the LZ4 line measured beside each repetition: median, min and max (W3 engine rows).</summary>
    public (double Median, double Min, double Max)? OfLz4 { get; init; }

    /// <summary>A figure that was not measured, with the reason.</summary>
    public static Measure NotApplicable(string why) => new(double.NaN, double.NaN, double.NaN, Note: why);

    /// <summary>True when there is a number.</summary>
    public bool HasValue => !double.IsNaN(Median);
}

/// <summary>How a row's target is judged.</summary>
/// <param name="Text">The target as the issue states it.</param>
/// <param name="Judge">Given the row, returns (met, how far: e.g. "1.8× of 10×").</param>
public sealed record Target(string Text, Func<Row, (bool Met, string Detail)?> Judge);

/// <summary>A row of the results table: one workload, one figure per backend column.</summary>
public sealed class Row(string id, string title, string unit, bool higherIsBetter)
{
    /// <summary>Short id (W1, R1, ...).</summary>
    public string Id { get; } = id;

    /// <summary>What was measured, with the mode of each backend.</summary>
    public string Title { get; } = title;

    /// <summary>Unit of <see cref="Measure.Median"/>.</summary>
    public string Unit { get; } = unit;

    /// <summary>True for throughputs, false for latencies and sizes.</summary>
    public bool HigherIsBetter { get; } = higherIsBetter;

    /// <summary>Figures by backend column (engine, sqlite, redis).</summary>
    public Dictionary<string, Measure> Cells { get; } = [];

    /// <summary>The target for this row, if any.</summary>
    public Target? Target { get; init; }

    /// <summary>Extra remarks (actual N, recovery details).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>engine / other as a speed factor: &gt;1 means the engine is better, whatever the unit.</summary>
    public double? Advantage(string other)
    {
        if (!Cells.TryGetValue("engine", out var e) || !Cells.TryGetValue(other, out var o) || !e.HasValue || !o.HasValue || e.Median <= 0 || o.Median <= 0)
        {
            return null;
        }
        return HigherIsBetter ? e.Median / o.Median : o.Median / e.Median;
    }
}

/// <summary>Median, percentiles and repetition of measurements.</summary>
public static class Stats
{
    /// <summary>The p-th percentile (0..1) of the values (nearest rank).</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    /// <summary>The median.</summary>
    public static double Median(IReadOnlyList<double> values) => Percentile(values, 0.5);

    /// <summary>Folds repetitions (value, p99, MB/s) into one figure: median of each, min–max of the values.</summary>
    public static Measure Fold(IReadOnlyList<Sample> reps, string? note = null)
    {
        var values = reps.Select(r => r.Value).ToList();
        var p99 = reps.Where(r => r.P99.HasValue).Select(r => r.P99!.Value).ToList();
        var mbps = reps.Where(r => r.MegabytesPerSecond.HasValue).Select(r => r.MegabytesPerSecond!.Value).ToList();
        var ofLz4 = reps.Where(r => r.MegabytesPerSecond.HasValue && r.Lz4MBps > 0).Select(r => r.MegabytesPerSecond!.Value / r.Lz4MBps!.Value).ToList();
        return new Measure(
            Median(values),
            values.Min(),
            values.Max(),
            p99.Count > 0 ? Median(p99) : null,
            mbps.Count > 0 ? Median(mbps) : null,
            note)
        {
            OfLz4 = ofLz4.Count > 0 && ofLz4.Count == reps.Count ? (Median(ofLz4), ofLz4.Min(), ofLz4.Max()) : null,
        };
    }
}

/// <summary>One repetition's result; <paramref name="Lz4MBps"/> is the LZ4 line measured just before it, where measured.</summary>
public readonly record struct Sample(double Value, double? P99 = null, double? MegabytesPerSecond = null, double? Lz4MBps = null);
