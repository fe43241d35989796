using System.Globalization;
using LangSwarm.MemoryEngine.Bench.Macro;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>The S2 rows of one store shape, in table order, with the issue's targets.</summary>
public sealed class ScaleRows
{
    private const int FileSlack = 16;

    /// <summary>Declares the rows (they are filled per backend by <see cref="Scale"/>).</summary>
    public ScaleRows(BenchContext ctx, ScaleShape shape)
    {
        var o = ctx.Options;
        var inv = CultureInfo.InvariantCulture;
        var segment = new EngineOptions { Path = "." }.SegmentMaxBytes;
        var name = shape.Name;
        Bytes = new Row("S2", string.Create(inv, $"{name} store, {shape.Sessions:N0} sessions × {shape.MessagesEach:N0} mixed messages{(shape.Name == "wide" ? string.Create(inv, $" over {shape.Users:N0} users") : string.Empty)} (fill budget {o.ScaleFillBudget.TotalSeconds:0} s each; N written in the notes): bytes per message on disk after a clean close and a vacuum"), "B/msg", false)
        {
            Target = Targets.AtMostRatioOfSqlite(0.6, "engine ≤ 0.6× SQLite"),
        };
        Files = new Row("S2", $"{name}: files under the store directory (recursive) after the vacuum (before it: in the notes)", "files", false)
        {
            Target = Targets.FilesWithinSegments(() => EngineBytes, segment, FileSlack, string.Create(inv, $"engine ≤ ⌈data bytes ÷ segment size⌉ + {FileSlack}")),
        };
        Clean = new Row("S2", $"{name}: open (ConnectAsync) after a clean close", "ms", false);
        Unclean = new Row("S2", string.Create(inv, $"{name}: open after a child process reopened the store, added {o.ScaleUncleanTail:N0} messages and was killed (each repetition: a new child, a new tail)"), "ms", false)
        {
            Target = Targets.AtMostTimes(() => Targets.Engine(Clean), "its clean open", 2, "ms", "engine ≤ 2× its clean open"),
        };
        if (shape.MessagesEach <= shape.Batch)
        {
            Listing = new Row("S2", $"{name}: ListSessionsAsync(user, limit 20) right after an open, each user's first listing since it (up to 100 users per open)", "µs", false);
        }
        Cold = new Row("S2", $"{name}: GetSessionAsync + GetConversationContextAsync(8000) of sessions not read since the open, right after it (up to 20 per open; the OS page cache is warm)", "µs", false);
        Peak = new Row("S2", $"{name}: peak working set of a child process that opens the store and reads {ScaleChild.PeakContexts} contexts of sessions picked by the seed", "MB", false)
        {
            Target = Targets.AtMostTimes(() => ctx.Rows.FirstOrDefault(r => r.Id == "M1") is { } m1 ? Targets.Engine(m1) : null, "M1", 1.2, "MB", "engine ≤ 1.2× M1's engine figure (same run)"),
        };
        if (!o.Includes("M1") || !o.IncludesBackend("engine"))
        {
            Peak.Notes.Add("M1 did not run in this invocation: the comparison with M1 needs both in the same run (e.g. --only S2,M1)");
        }
        Peak.Notes.Add("both this child and M1's load the tokenizer, so that the difference is what the store keeps resident");
    }

    /// <summary>Bytes per message (the engine's bytes also bound its file count).</summary>
    public Row Bytes { get; }

    /// <summary>Files under the store directory.</summary>
    public Row Files { get; }

    /// <summary>Open after a clean close.</summary>
    public Row Clean { get; }

    /// <summary>Open after a killed writer.</summary>
    public Row Unclean { get; }

    /// <summary>A user's first listing page (wide only: the long store has 10 sessions).</summary>
    public Row? Listing { get; }

    /// <summary>Context reads of cold sessions.</summary>
    public Row Cold { get; }

    /// <summary>Peak working set of a reading child.</summary>
    public Row Peak { get; }

    /// <summary>The engine's data bytes on disk, once its fill is measured (the file-count target's bound).</summary>
    public double? EngineBytes { get; set; }

    /// <summary>Every row, in table order.</summary>
    public IEnumerable<Row> All => new[] { Bytes, Files, Clean, Unclean, Listing, Cold, Peak }.OfType<Row>();
}
