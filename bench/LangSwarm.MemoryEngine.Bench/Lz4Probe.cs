using System.Diagnostics;
using System.Text;
using K4os.Compression.LZ4;

namespace LangSwarm.MemoryEngine.Bench;

/// <summary>
/// LZ4 fast compression speed per message (K4os <see cref="LZ4Codec"/>, the physical-limits line), measurable
/// again at any moment of a run: the W3 rows measure it beside each repetition, because the machine's speed
/// drifts within a run as well as between days.
/// </summary>
public sealed class Lz4Probe
{
    private readonly byte[][] _mixed;
    private readonly byte[][] _fixed;
    private readonly byte[] _target;

    /// <summary>Builds the payloads: 4,096 mixed messages (the line's data) and W3's 64 1-KB texts.</summary>
    public Lz4Probe(DataGenerator data)
    {
        _mixed = [.. Enumerable.Range(0, 4_096).Select(i => Encoding.UTF8.GetBytes(data.Mixed(i).Content + data.Mixed(i).ToolCalls?.ToJsonString()))];
        _fixed = [.. Enumerable.Range(0, 64).Select(i => Encoding.UTF8.GetBytes(data.Fixed(1024, i).Content))];
        _target = new byte[LZ4Codec.MaximumOutputSize(_mixed.Concat(_fixed).Max(p => p.Length))];
    }

    /// <summary>The mixed payloads (for the decompression and ratio figures of the limits).</summary>
    public IReadOnlyList<byte[]> Mixed => _mixed;

    /// <summary>Compress MB/s on the mixed data over about <paramref name="duration"/>.</summary>
    public double MixedMBps(TimeSpan duration) => Run(_mixed, duration);

    /// <summary>Compress MB/s on W3's 1-KB texts over about <paramref name="duration"/>.</summary>
    public double FixedMBps(TimeSpan duration) => Run(_fixed, duration);

    private double Run(byte[][] payloads, TimeSpan duration)
    {
        long raw = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration)
        {
            foreach (var p in payloads)
            {
                LZ4Codec.Encode(p, _target, LZ4Level.L00_FAST);
                raw += p.Length;
            }
        }
        return raw / 1e6 / sw.Elapsed.TotalSeconds;
    }
}
