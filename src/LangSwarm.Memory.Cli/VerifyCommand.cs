using System.CommandLine;
using System.Diagnostics;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem verify</c>: reads every record of an engine store, checks it, and compares the index with the segments.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress display; one summary line at the end." };
        var c = new Command("verify", "Check every record of an engine store and the index against the segments; exit 1 when anything is wrong.");
        StoreOptions.AddTo(c);
        c.Options.Add(quiet);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            await using var store = await StoreAccess.OpenAsync(StoreOptions.Spec(pr), StoreAccessMode.Read, ct, io);
            var backend = store.Engine("verify");
            var recovery = backend.Recovery!;
            var clock = Stopwatch.StartNew();
            // The engine reports no progress of its own while it verifies: the display shows time elapsed.
            var report = await ProgressView.RunAsync(io, pr.GetValue(quiet), "verify", "records", null, _ => backend.VerifyAsync(ct));
            foreach (var f in recovery.ForeignFiles)
            {
                await io.Out.WriteLineAsync($"foreign file: {f}");
            }
            foreach (var d in recovery.Damage)
            {
                await io.Out.WriteLineAsync($"damage at open: {d}");
            }
            foreach (var p in report.Problems)
            {
                await io.Out.WriteLineAsync($"problem: {p}");
            }
            var ok = report.Ok && recovery.Damage.Count == 0;
            await io.Out.WriteLineAsync($"{(ok ? "ok" : "NOT OK")}: {report.Segments} segments, {report.Packs} packs, {report.Records:N0} records, {report.Bytes:N0} bytes verified in {clock.Elapsed.TotalSeconds:F1} s; open: {recovery.Sessions:N0} sessions, {recovery.Messages:N0} messages, {recovery.LogRecordsReplayed + recovery.SegmentRecordsReplayed} records replayed, {recovery.TornBytesCut} torn bytes cut, {recovery.Elapsed.TotalMilliseconds:F1} ms");
            return ok ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return c;
    }
}
