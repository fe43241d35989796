using System.CommandLine;
using LangSwarm.MemoryEngine;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem verify</c>: reads every record of an engine store, checks it, and compares the index with the segments.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var c = new Command("verify", "Check every record of an engine store and the index against the segments; exit 1 when anything is wrong.");
        c.Options.Add(StoreOptions.Store);
        c.SetAction(async (pr, ct) =>
        {
            var backend = new EngineBackend(pr.GetValue(StoreOptions.Store) ?? StoreOptions.DefaultStorePath());
            await using var _ = backend;
            await backend.ConnectAsync(ct);
            var recovery = backend.Recovery!;
            Console.WriteLine($"open: {recovery.Sessions} sessions, {recovery.Messages} messages, {recovery.LogRecordsReplayed + recovery.SegmentRecordsReplayed} records replayed, {recovery.TornBytesCut} torn bytes cut, {recovery.Elapsed.TotalMilliseconds:F1} ms (checkpoint {recovery.CheckpointLoadTime.TotalMilliseconds:F1}, segments {recovery.SegmentScanTime.TotalMilliseconds:F1}, logs {recovery.LogReplayTime.TotalMilliseconds:F1})");
            foreach (var f in recovery.ForeignFiles)
            {
                Console.WriteLine($"foreign file: {f}");
            }
            var report = await backend.VerifyAsync(ct);
            Console.WriteLine($"verify: {report.Segments} segments, {report.Records} records, {report.Bytes} bytes");
            foreach (var d in recovery.Damage)
            {
                Console.WriteLine($"damage at open: {d}");
            }
            foreach (var p in report.Problems)
            {
                Console.WriteLine($"problem: {p}");
            }
            var ok = report.Ok && recovery.Damage.Count == 0;
            Console.WriteLine(ok ? "ok" : "NOT OK");
            return ok ? 0 : 1;
        });
        return c;
    }
}
