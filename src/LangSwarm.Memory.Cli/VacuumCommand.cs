using System.CommandLine;
using LangSwarm.MemoryEngine;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem vacuum</c>: compacts an engine store and reports the bytes reclaimed.</summary>
internal static class VacuumCommand
{
    public static Command Create()
    {
        var fraction = new Option<double>("--min-dead") { Description = "Rewrite sessions whose dead bytes reach this fraction (0..1).", DefaultValueFactory = _ => 0.25 };
        var c = new Command("vacuum", "Rewrite sessions with dead records (and archived ones into cold form), then delete the old segments.");
        c.Options.Add(StoreOptions.Store);
        c.Options.Add(fraction);
        c.SetAction(async (pr, ct) =>
        {
            var backend = new EngineBackend(pr.GetValue(StoreOptions.Store) ?? StoreOptions.DefaultStorePath());
            await using var _ = backend;
            await backend.ConnectAsync(ct);
            var report = await backend.VacuumAsync(pr.GetValue(fraction), ct);
            Console.WriteLine($"rewrote {report.SessionsRewritten} session(s), skipped {report.SessionsSkipped}; {report.BytesBefore:N0} -> {report.BytesAfter:N0} bytes ({report.BytesReclaimed:N0} reclaimed{(report.IndexBytesReclaimed > 0 ? $", {report.IndexBytesReclaimed:N0} of them by repacking the index file" : string.Empty)}) in {report.Elapsed.TotalMilliseconds:F0} ms");
            return 0;
        });
        return c;
    }
}
