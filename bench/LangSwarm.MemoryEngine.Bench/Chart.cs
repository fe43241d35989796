using LangSwarm.MemoryEngine.Bench.Macro;
using ScottPlot;

namespace LangSwarm.MemoryEngine.Bench;

/// <summary>The table as a PNG: per row, how many times better the engine is than SQLite and Redis (log scale).</summary>
public static class Chart
{
    /// <summary>Writes the chart.</summary>
    public static void Write(IReadOnlyList<Row> rows, string path, string title)
    {
        var plot = new Plot();
        var sqliteColor = Colors.SteelBlue;
        var redisColor = Colors.IndianRed;
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (var i = 0; i < rows.Count; i++)
        {
            var x = i * 3.0;
            if (rows[i].Advantage("sqlite") is { } s)
            {
                bars.Add(new Bar { Position = x, Value = Math.Log10(s), FillColor = sqliteColor });
            }
            if (rows[i].Advantage("redis") is { } r)
            {
                bars.Add(new Bar { Position = x + 1, Value = Math.Log10(r), FillColor = redisColor });
            }
            ticks.Add(new Tick(x + 0.5, $"{rows[i].Id}.{i + 1}"));
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        double[] decades = [-3, -2, -1, 0, 1, 2, 3];
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            decades.Select(d => new Tick(d, d >= 0 ? $"{Math.Pow(10, d):0}×" : $"1/{Math.Pow(10, -d):0}×")).ToArray());
        plot.Add.HorizontalLine(0, 1, Colors.Black);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "engine vs SQLite", FillColor = sqliteColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "engine vs Redis", FillColor = redisColor });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title(title);
        plot.Axes.Left.Label.Text = "times better (log scale; > 1× = engine better)";
        plot.Axes.Bottom.Label.Text = "row (Id.row number in the table)";
        plot.SavePng(path, Math.Max(800, rows.Count * 70), 500);
    }
}
