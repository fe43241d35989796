using System.Diagnostics;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Bench.Macro;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// Fills a store for S1/O1: half of the messages in 10 long sessions, half in many sessions of 10, interleaved in
/// blocks of 200, until the target count or the time budget (whichever first; the count reached is reported).
/// </summary>
public static class Fill
{
    /// <summary>Messages written; the store stays open for the caller.</summary>
    public static async Task<long> RunAsync(BenchContext ctx, IMemoryBackend b, long target, TimeSpan budget)
    {
        const int longCount = 10;
        var longs = new IMemorySession[longCount];
        for (var k = 0; k < longCount; k++)
        {
            longs[k] = await b.CreateSessionAsync(Backends.Session($"long-{k}", $"u{k}")).ConfigureAwait(false);
        }
        var sw = Stopwatch.StartNew();
        long written = 0;
        var block = 0;
        while (written < target && sw.Elapsed < budget)
        {
            await longs[block % longCount].AddMessagesAsync(ctx.Data.MixedBatch(written, 100)).ConfigureAwait(false);
            written += 100;
            for (var s = 0; s < 10; s++)
            {
                var small = await b.CreateSessionAsync(Backends.Session($"small-{block}-{s}", $"u{s}")).ConfigureAwait(false);
                await small.AddMessagesAsync(ctx.Data.MixedBatch(written, 10)).ConfigureAwait(false);
                written += 10;
            }
            block++;
        }
        return written;
    }

    /// <summary>Copies a store directory while it is open (an unclean-stop snapshot), leaving out the LOCK file.</summary>
    public static void CopyWhileOpen(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) == "LOCK")
            {
                continue;
            }
            var dest = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            using var src = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var dst = File.Create(dest);
            src.CopyTo(dst);
        }
    }
}
