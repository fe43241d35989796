using System.Diagnostics;
using System.Globalization;
using LangSwarm.Memory.Sqlite;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// The maintenance an operator runs on a filled store before S2 measures it: the engine's vacuum, which packs
/// the small sessions into shared pack files (every session counts as idle here: the fill just ended), and
/// SQLite's <c>VACUUM</c>.
/// </summary>
public static class ScaleVacuum
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Runs the vacuum of <paramref name="column"/>'s store in <paramref name="dir"/>; returns a note of what it did.</summary>
    public static async Task<string> RunAsync(string column, string dir)
    {
        var sw = Stopwatch.StartNew();
        switch (column)
        {
            case "engine":
                var engine = new EngineBackend(new EngineOptions
                {
                    Path = Path.Combine(dir, "store"),
                    Durability = DurabilityMode.None,
                    PackSessionsIdleFor = TimeSpan.Zero,
                    VacuumPause = TimeSpan.Zero,
                });
                await using (engine)
                {
                    await engine.ConnectAsync().ConfigureAwait(false);
                    var report = await engine.VacuumAsync().ConfigureAwait(false);
                    return string.Create(Inv, $"engine: a vacuum packed {report.SessionsPacked:N0} sessions and rewrote {report.SessionsRewritten:N0} in {sw.Elapsed.TotalSeconds:N1} s");
                }
            case "sqlite":
                var sqlite = new SqliteBackend(new SqliteBackendOptions { DbPath = Path.Combine(dir, "bench.db"), EnableWal = true, Durability = SqliteDurability.Normal });
                await using (sqlite)
                {
                    await sqlite.ConnectAsync().ConfigureAwait(false);
                    var reclaimed = await sqlite.VacuumDatabaseAsync().ConfigureAwait(false);
                    return string.Create(Inv, $"sqlite: VACUUM gave back {reclaimed / 1e6:N1} MB in {sw.Elapsed.TotalSeconds:N1} s");
                }
            default:
                return $"{column}: no vacuum";
        }
    }
}
