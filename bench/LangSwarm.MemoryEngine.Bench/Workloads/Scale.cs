using System.Diagnostics;
using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// S2, the scale rows (<c>macro --scale</c>): a wide store (many sessions of 5 messages) and a long one (10 sessions
/// of many messages), engine and SQLite filled alike, then size, file count, clean and unclean open, a user's
/// listing page, cold context reads and the peak working set of a process that opens the store.
/// </summary>
public static class Scale
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Sessions read cold after each open (at most; the long store has fewer).</summary>
    private const int ColdReads = 20;

    /// <summary>Users listed after each open (at most; a small store has fewer).</summary>
    private const int ListingCalls = 100;

    /// <summary>Runs S2 on both shapes.</summary>
    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var sw = Stopwatch.StartNew();
        await RunShapeAsync(ctx, new ScaleShape("wide", o.ScaleWide.Sessions, o.ScaleWide.MessagesEach)).ConfigureAwait(false);
        await RunShapeAsync(ctx, new ScaleShape("long", o.ScaleLong.Sessions, o.ScaleLong.MessagesEach)).ConfigureAwait(false);
        BenchContext.Log(string.Create(Inv, $"S2 took {sw.Elapsed.TotalSeconds:0} s"));
    }

    private static async Task RunShapeAsync(BenchContext ctx, ScaleShape shape)
    {
        var rows = new ScaleRows(ctx, shape);
        ctx.Rows.AddRange(rows.All);
        BackendSpec[] specs = [Backends.Engine(DurabilityMode.None), Backends.Sqlite(SqliteDurability.Normal)];
        var target = shape.Messages;
        foreach (var spec in specs.Where(s => ctx.Options.IncludesBackend(s.Column)))
        {
            var dir = ctx.NewDir();
            try
            {
                var filled = await MeasureAsync(ctx, shape, spec, dir, target, rows).ConfigureAwait(false);
                // The next backend writes as many as this one did, so that both columns hold the same store.
                target = filled.Messages;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                BenchContext.Log($"S2 {shape.Name} {spec.Column} failed: {ex}");
                foreach (var r in rows.All)
                {
                    r.Cells.TryAdd(spec.Column, Measure.NotApplicable($"failed: {ex.GetType().Name}: {ex.Message}"));
                }
            }
            finally
            {
                BenchContext.Remove(dir);
            }
        }
        foreach (var r in rows.All)
        {
            r.Cells.TryAdd("redis", Measure.NotApplicable("not measured (S2: engine and SQLite)"));
            r.Cells.TryAdd("engine", Measure.NotApplicable("not measured"));
            r.Cells.TryAdd("sqlite", Measure.NotApplicable("not measured"));
        }
    }

    /// <summary>Fills one backend's store, measures every S2 row on it, and returns what the fill wrote.</summary>
    private static async Task<ScaleFilled> MeasureAsync(BenchContext ctx, ScaleShape shape, BackendSpec spec, string dir, long target, ScaleRows rows)
    {
        var o = ctx.Options;
        var col = spec.Column;
        BenchContext.Log(string.Create(Inv, $"S2 {shape.Name} {col} ({spec.Mode}): filling toward {target:N0} messages, budget {o.ScaleFillBudget.TotalSeconds:0} s ..."));
        ScaleFilled filled;
        await using (var b = await spec.OpenAsync(dir).ConfigureAwait(false))
        {
            filled = await ScaleFill.RunAsync(ctx.Data, b, shape, target, o.ScaleFillBudget, $"S2 {shape.Name} {col}").ConfigureAwait(false);
        }
        if (filled.Messages == 0)
        {
            throw new InvalidOperationException("the fill wrote nothing within its budget");
        }
        var filesBefore = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).LongCount();
        var bytesBefore = Backends.DirectoryBytes(dir);
        BenchContext.Log($"S2 {shape.Name} {col}: vacuum ...");
        var vacuumNote = await ScaleVacuum.RunAsync(col, dir).ConfigureAwait(false);
        BenchContext.Log($"S2 {shape.Name} {vacuumNote}");
        var bytes = Backends.DirectoryBytes(dir);
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).LongCount();
        rows.Bytes.Cells[col] = Exact((double)bytes / filled.Messages);
        rows.Files.Cells[col] = Exact(files);
        if (col == "engine")
        {
            rows.EngineBytes = bytes;
        }
        var allocated = AllocatedBytes(dir) is { } a ? string.Create(Inv, $" ({a / 1e6:N1} MB allocated, du)") : string.Empty;
        var budgetNote = filled.StoppedByBudget ? string.Create(Inv, $"; **stopped by the {o.ScaleFillBudget.TotalSeconds:0} s fill budget** at {filled.Messages:N0} of {target:N0} messages") : string.Empty;
        rows.Bytes.Notes.Add(string.Create(Inv, $"{col}: N = {filled.Sessions:N0} sessions, {filled.Messages:N0} messages written in {filled.Elapsed.TotalSeconds:N0} s ({filled.Messages / filled.Elapsed.TotalSeconds:N0} msg/s, {spec.Mode}){budgetNote}; {bytesBefore / 1e6:N1} MB in {filesBefore:N0} files after a clean close; {vacuumNote}; then {bytes / 1e6:N1} MB in {files:N0} files{allocated}"));
        BenchContext.Log(string.Create(Inv, $"S2 {shape.Name} {col}: {filled.Messages:N0} messages in {filled.Elapsed.TotalSeconds:0} s, {bytes / 1e6:N1} MB, {files:N0} files"));

        if (col == "engine" || !ctx.Options.IncludesBackend("engine"))
        {
            rows.Bytes.Notes.Add(string.Create(Inv, $"{o.ScaleRepetitions} repetition(s) of: a clean open, the cold context reads and listings after it, a child that adds {o.ScaleUncleanTail:N0} messages and is killed, the open after that"));
        }
        var clean = new List<Sample>();
        var unclean = new List<Sample>();
        var cold = new List<Sample>();
        var listing = new List<Sample>();
        string? uncleanFailure = null;
        for (var r = 0; r < o.ScaleRepetitions; r++)
        {
            BenchContext.Log($"S2 {shape.Name} {col}: repetition {r + 1} of {o.ScaleRepetitions} ...");
            var backend = spec.Create(dir);
            var sw = Stopwatch.StartNew();
            await backend.ConnectAsync().ConfigureAwait(false);
            clean.Add(new Sample(sw.Elapsed.TotalMilliseconds));
            await using (backend)
            {
                cold.Add(await ColdContextsAsync(backend, shape, filled.Sessions, r).ConfigureAwait(false));
                if (rows.Listing is not null)
                {
                    listing.Add(await ListingsAsync(backend, shape, filled.Sessions, r).ConfigureAwait(false));
                }
            }
            // A failed kill-and-recover marks the unclean row only (the other rows stand); later repetitions skip it.
            uncleanFailure ??= await TryUncleanOpenAsync(ctx, shape, spec, dir, filled, r, r == 0 && col == "engine" ? rows.Unclean : null, unclean).ConfigureAwait(false);
        }
        rows.Clean.Cells[col] = Stats.Fold(clean);
        rows.Unclean.Cells[col] = uncleanFailure is null ? Stats.Fold(unclean) : Measure.NotApplicable($"failed: {uncleanFailure}");
        rows.Cold.Cells[col] = Stats.Fold(cold);
        if (rows.Listing is not null)
        {
            rows.Listing.Cells[col] = Stats.Fold(listing);
        }

        BenchContext.Log($"S2 {shape.Name} {col}: peak working set child ...");
        try
        {
            var peak = await PeakMemory.RunChildAsync(ScaleChild.Arguments("peak", col, dir, shape, filled.Sessions)).ConfigureAwait(false);
            rows.Peak.Cells[col] = new Measure(peak / 1e6, peak / 1e6, peak / 1e6, Note: "one run");
        }
        catch (InvalidOperationException ex)
        {
            rows.Peak.Cells[col] = Measure.NotApplicable($"failed: {ex.Message}");
        }
        return filled;
    }

    /// <summary>
    /// One unclean open: a child reopens the store, adds the tail and is killed; the open after it is timed (and
    /// closes the store cleanly again). Returns why it failed, or null.
    /// </summary>
    private static async Task<string?> TryUncleanOpenAsync(BenchContext ctx, ScaleShape shape, BackendSpec spec, string dir, ScaleFilled filled, int round, Row? recoveryNotes, List<Sample> samples)
    {
        var o = ctx.Options;
        try
        {
            await ChildProcess.RunUntilMarkerThenKillAsync(
                ScaleChild.Arguments("unclean", spec.Column, dir, shape, filled.Sessions, o.ScaleUncleanTail, round),
                ScaleChild.TailWritten,
                TimeSpan.FromMinutes(10) + o.ScaleFillBudget).ConfigureAwait(false);
            samples.Add(new Sample(await Open.TimeOpenAsync(spec, dir, recoveryNotes).ConfigureAwait(false)));
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            BenchContext.Log($"S2 {shape.Name} {spec.Column} unclean open failed: {ex}");
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>
    /// Right after an open: the context of sessions not read since it (the first of them also pays for whatever
    /// the open left to first use). Median and p99 of one open's reads.
    /// </summary>
    private static async Task<Sample> ColdContextsAsync(IMemoryBackend b, ScaleShape shape, int sessions, int round)
    {
        var rng = new Random(DataGenerator.Seed + 100 + round);
        var picks = sessions <= ColdReads
            ? Enumerable.Range(0, sessions).ToArray()
            : Enumerable.Range(0, ColdReads * 4).Select(_ => rng.Next(sessions)).Distinct().Take(ColdReads).ToArray();
        var lat = new List<double>(picks.Length);
        foreach (var k in picks)
        {
            var t0 = Stopwatch.GetTimestamp();
            var s = await b.GetSessionAsync(shape.SessionId(k)).ConfigureAwait(false) ?? throw new InvalidOperationException($"S2: session {shape.SessionId(k)} is missing");
            await s.GetConversationContextAsync(8000).ConfigureAwait(false);
            lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }
        return new Sample(Stats.Median(lat), Stats.Percentile(lat, 0.99));
    }

    /// <summary>The first page (20) of users' sessions, each user listed once since the open.</summary>
    private static async Task<Sample> ListingsAsync(IMemoryBackend b, ScaleShape shape, int sessions, int round)
    {
        var users = Math.Min(shape.Users, sessions);
        var calls = Math.Min(ListingCalls, users);
        var lat = new List<double>(calls);
        for (var c = 0; c < calls; c++)
        {
            var user = shape.UserId((round * calls) + c);
            var t0 = Stopwatch.GetTimestamp();
            await b.ListSessionsAsync(user, null, 20, 0).ConfigureAwait(false);
            lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }
        return new Sample(Stats.Median(lat), Stats.Percentile(lat, 0.99));
    }

    private static Measure Exact(double value) => new(value, value, value);

    /// <summary>
    /// Bytes the files take on disk (whole blocks; <c>du</c>), beside the sum of their lengths: a store of many
    /// small files pays for the rest of each file's last block. Null where <c>du</c> is missing.
    /// </summary>
    private static long? AllocatedBytes(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }
        try
        {
            var psi = new ProcessStartInfo("du", $"-s -B1 \"{dir}\"") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null)
            {
                return null;
            }
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 && long.TryParse(text.Split('\t', ' ')[0], NumberStyles.None, Inv, out var n) ? n : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
