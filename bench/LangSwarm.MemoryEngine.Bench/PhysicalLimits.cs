using System.Diagnostics;
using K4os.Compression.LZ4;
using LangSwarm.MemoryEngine.Bench.Macro;

namespace LangSwarm.MemoryEngine.Bench;

/// <summary>What the hardware allows, measured in the same run on the bench directory's disk and the same data.</summary>
public sealed record PhysicalLimits(double FsyncMedianMicros, double FsyncP99Micros, double DataSyncMedianMicros, double DataSyncP99Micros, double OverwriteSyncMedianMicros, double OverwriteSyncP99Micros, double SequentialWriteMBps, double Lz4CompressMBps, double Lz4DecompressMBps, double Lz4Ratio, double Lz4FixedCompressMBps)
{
    /// <summary>fsyncs per second one writer can do (1 / median latency).</summary>
    public double FsyncsPerSecond => 1e6 / FsyncMedianMicros;

    /// <summary>Syncs per second one writer can do the engine's way (4 KB append + its file sync; 1 / median latency).</summary>
    public double DataSyncsPerSecond => 1e6 / DataSyncMedianMicros;

    /// <summary>Syncs per second of 4 KB written over bytes the file already holds (the preallocated Strict log's case).</summary>
    public double OverwriteSyncsPerSecond => 1e6 / OverwriteSyncMedianMicros;

    /// <summary>Measures fsync latency (4 KB write + fsync loop), the same with the engine's file sync (fdatasync on Linux), sequential write bandwidth (1 MB writes, one fsync) and LZ4 per message.</summary>
    public static PhysicalLimits Measure(string dir, DataGenerator data, bool quick)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "limits.bin");
        try
        {
            var block = new byte[4096];
            Random.Shared.NextBytes(block);
            var lat = new List<double>();
            using (var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                for (var i = 0; i < (quick ? 100 : 1_000); i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    fs.Write(block);
                    fs.Flush(true);
                    lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }
            var dataLat = DataSyncLatencies(dir, block, quick ? 100 : 1_000, overwrite: false);
            var overLat = DataSyncLatencies(dir, block, quick ? 100 : 1_000, overwrite: true);
            var mb = quick ? 64 : 512;
            var chunk = new byte[1 << 20];
            Random.Shared.NextBytes(chunk);
            var sw = Stopwatch.StartNew();
            using (var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                for (var i = 0; i < mb; i++)
                {
                    fs.Write(chunk);
                }
                fs.Flush(true);
            }
            var seq = mb * 1.048576 / sw.Elapsed.TotalSeconds;
            var (c, d, ratio, f) = Lz4(new Lz4Probe(data));
            return new PhysicalLimits(Stats.Median(lat), Stats.Percentile(lat, 0.99), Stats.Median(dataLat), Stats.Percentile(dataLat, 0.99), Stats.Median(overLat), Stats.Percentile(overLat, 0.99), seq, c, d, ratio, f);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // Writes through the engine's own file (Device/PhysicalFile), so the line is the sync a Strict add waits for:
    // appending (the file grows with each write), or over zeros written and synced beforehand (a preallocated log).
    private static List<double> DataSyncLatencies(string dir, byte[] block, int count, bool overwrite)
    {
        var fs = new Device.PhysicalFileSystem(dir);
        var lat = new List<double>(count);
        try
        {
            using var file = fs.Open("limits-sync.bin", create: true);
            if (overwrite)
            {
                file.Write(0, new byte[(long)count * block.Length]);
                file.Flush();
            }
            for (var i = 0; i < count; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                file.Write((long)i * block.Length, block);
                file.Flush();
                lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
        }
        finally
        {
            fs.Delete("limits-sync.bin");
        }
        return lat;
    }

    private static (double Compress, double Decompress, double Ratio, double FixedCompress) Lz4(Lz4Probe probe)
    {
        var payloads = probe.Mixed;
        var raw = payloads.Sum(p => (long)p.Length);
        var encoded = payloads.Select(p => new byte[LZ4Codec.MaximumOutputSize(p.Length)]).ToArray();
        var lengths = new int[payloads.Count];
        for (var i = 0; i < payloads.Count; i++)
        {
            lengths[i] = LZ4Codec.Encode(payloads[i], encoded[i], LZ4Level.L00_FAST);
        }
        // Warm-up first, so tiered JIT has optimized LZ4's loops before the timed rounds.
        probe.MixedMBps(TimeSpan.FromMilliseconds(300));
        var target = new byte[payloads.Max(p => p.Length)];
        for (var i = 0; i < payloads.Count * 4; i++)
        {
            LZ4Codec.Decode(encoded[i % payloads.Count].AsSpan(0, lengths[i % payloads.Count]), target);
        }
        Thread.Sleep(200);
        var compress = probe.MixedMBps(TimeSpan.FromMilliseconds(300));
        var sw = Stopwatch.StartNew();
        var rounds = 0;
        while (sw.Elapsed.TotalMilliseconds < 300)
        {
            for (var i = 0; i < payloads.Count; i++)
            {
                LZ4Codec.Decode(encoded[i].AsSpan(0, lengths[i]), target);
            }
            rounds++;
        }
        var decompress = raw * rounds / 1e6 / sw.Elapsed.TotalSeconds;
        return (compress, decompress, (double)lengths.Sum(l => (long)l) / raw, probe.FixedMBps(TimeSpan.FromMilliseconds(300)));
    }
}
