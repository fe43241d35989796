using System.Globalization;

namespace LangSwarm.MemoryEngine.Bench.Macro;

/// <summary>The issue's targets as judges of a row (reported, never tuned for).</summary>
public static class Targets
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Engine at least <paramref name="factor"/>× better than SQLite.</summary>
    public static Target AtLeastTimesSqlite(double factor, string text) => new(text, row =>
        row.Advantage("sqlite") is { } a
            ? (a >= factor, string.Create(Inv, $"{a:0.0}× vs {factor:0}× ({(a >= factor ? "+" : "")}{(a / factor - 1) * 100:0}%)"))
            : null);

    /// <summary>Engine's median at least <paramref name="value"/>.</summary>
    public static Target AtLeast(double value, string text) => new(text, row =>
        Engine(row) is { } e ? (e >= value, string.Create(Inv, $"{e:N0} = {e / value * 100:0}% of {value:N0}")) : null);

    /// <summary>R1: median ≤ <paramref name="micros"/> µs and ≥ <paramref name="factor"/>× SQLite.</summary>
    public static Target LatencyAndFactor(double micros, double factor, string text) => new(text, row =>
    {
        if (Engine(row) is not { } e || row.Advantage("sqlite") is not { } a)
        {
            return null;
        }
        var met = e <= micros && a >= factor;
        return (met, string.Create(Inv, $"{e:0.0} µs vs ≤ {micros:0} µs ({e / micros * 100:0}%); {a:0.0}× vs ≥ {factor:0}× SQLite"));
    });

    /// <summary>S1: engine bytes at most <paramref name="ratio"/> of SQLite's.</summary>
    public static Target AtMostRatioOfSqlite(double ratio, string text) => new(text, row =>
    {
        if (Engine(row) is not { } e || !row.Cells.TryGetValue("sqlite", out var s) || !s.HasValue)
        {
            return null;
        }
        var r = e / s.Median;
        return (r <= ratio, string.Create(Inv, $"{r:0.00}× SQLite vs ≤ {ratio:0.0}×"));
    });

    /// <summary>Engine's median at most <paramref name="value"/>.</summary>
    public static Target AtMost(double value, string unit, string text, string? scaleNote = null) => new(text, row =>
        Engine(row) is { } e
            ? (e <= value, string.Create(Inv, $"{e:0.###} {unit} vs ≤ {value:0.###} {unit} ({e / value * 100:0}%){scaleNote}"))
            : null);

    /// <summary>
    /// Engine's median at most <paramref name="factor"/>× a reference known only when the report is written
    /// (another row of the same run, e.g. the clean open or M1); not measured when the reference is missing.
    /// </summary>
    public static Target AtMostTimes(Func<double?> reference, string referenceName, double factor, string unit, string text) => new(text, row =>
    {
        if (Engine(row) is not { } e || reference() is not { } r || r <= 0)
        {
            return null;
        }
        return (e <= factor * r, string.Create(Inv, $"{e:N1} {unit} = {e / r:0.00}× {referenceName} ({r:N1} {unit}) vs ≤ {factor:0.0#}×"));
    });

    /// <summary>
    /// S2: engine's file count at most ⌈data bytes ÷ segment size⌉ + <paramref name="slack"/>; the bytes are the
    /// engine's own on disk in the same run, known only after its fill.
    /// </summary>
    public static Target FilesWithinSegments(Func<double?> dataBytes, long segmentBytes, int slack, string text) => new(text, row =>
    {
        if (Engine(row) is not { } e || dataBytes() is not { } bytes)
        {
            return null;
        }
        var bound = Math.Ceiling(bytes / segmentBytes) + slack;
        return (e <= bound, string.Create(Inv, $"{e:N0} files vs ≤ {bound:N0} = ⌈{bytes / 1e6:N1} MB ÷ {segmentBytes / 1048576.0:0.#} MiB⌉ + {slack}"));
    });

    /// <summary>
    /// Engine's median within <paramref name="fraction"/> of the engine's median in <paramref name="reference"/> (the
    /// same workload measured just before): no more than that much slower, or larger.
    /// </summary>
    public static Target WithinOfRow(Row reference, double fraction, string text) => new(text, row =>
    {
        if (Engine(row) is not { } e || Engine(reference) is not { } r || r <= 0)
        {
            return null;
        }
        var cost = row.HigherIsBetter ? (r / e) - 1 : (e / r) - 1;
        return (cost <= fraction, string.Create(Inv, $"{e:N1} vs {r:N1} {row.Unit} without encryption: {cost * 100:+0;-0}% cost vs ≤ {fraction * 100:0}%"));
    });

    /// <summary>The engine column's median, or null when it was not measured.</summary>
    public static double? Engine(Row row) => row.Cells.TryGetValue("engine", out var m) && m.HasValue ? m.Median : null;
}
