using System.Buffers.Binary;

namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>Deterministic byte mutations for the smoke mode (a small libFuzzer-like mutator).</summary>
public sealed class Mutator(int seed)
{
    private static readonly uint[] Interesting = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x1000000, 0x1000001, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 64, 40, 32];

    private readonly Random _random = new(seed);

    /// <summary>The random source (to pick seeds).</summary>
    public Random Random => _random;

    /// <summary>1 to 4 stacked mutations of <paramref name="input"/>, possibly spliced with <paramref name="other"/>.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        var data = new List<byte>(input);
        var rounds = 1 + _random.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            MutateOnce(data, other);
        }
        if (data.Count > 1 << 16)
        {
            data.RemoveRange(1 << 16, data.Count - (1 << 16));
        }
        return [.. data];
    }

    private void MutateOnce(List<byte> d, byte[] other)
    {
        var op = _random.Next(10);
        if (d.Count == 0 && op is not (5 or 8))
        {
            op = 5;
        }
        switch (op)
        {
            case 0: // flip a bit
                {
                    var p = _random.Next(d.Count);
                    d[p] ^= (byte)(1 << _random.Next(8));
                    break;
                }
            case 1: // random byte
                d[_random.Next(d.Count)] = (byte)_random.Next(256);
                break;
            case 2: // interesting 32-bit value, little-endian
                {
                    var p = _random.Next(d.Count);
                    Span<byte> v = stackalloc byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(v, Interesting[_random.Next(Interesting.Length)]);
                    for (var k = 0; k < 4 && p + k < d.Count; k++)
                    {
                        d[p + k] = v[k];
                    }
                    break;
                }
            case 3: // delete a range
                {
                    var p = _random.Next(d.Count);
                    d.RemoveRange(p, Math.Min(d.Count - p, 1 + _random.Next(32)));
                    break;
                }
            case 4: // truncate
                {
                    var p = _random.Next(d.Count);
                    d.RemoveRange(p, d.Count - p);
                    break;
                }
            case 5: // insert random bytes
                {
                    var n = 1 + _random.Next(16);
                    var bytes = new byte[n];
                    _random.NextBytes(bytes);
                    d.InsertRange(d.Count == 0 ? 0 : _random.Next(d.Count + 1), bytes);
                    break;
                }
            case 6: // duplicate a range
                {
                    var p = _random.Next(d.Count);
                    var n = Math.Min(d.Count - p, 1 + _random.Next(128));
                    d.InsertRange(_random.Next(d.Count + 1), d.GetRange(p, n));
                    break;
                }
            case 7: // add to a byte
                d[_random.Next(d.Count)] += (byte)(_random.Next(1, 8) * (_random.Next(2) == 0 ? 1 : -1));
                break;
            case 8: // splice from another input
                {
                    if (other.Length == 0)
                    {
                        break;
                    }
                    var from = _random.Next(other.Length);
                    var n = Math.Min(other.Length - from, 1 + _random.Next(256));
                    var at = d.Count == 0 ? 0 : _random.Next(d.Count + 1);
                    if (_random.Next(2) == 0 && at < d.Count)
                    {
                        d.RemoveRange(at, Math.Min(n, d.Count - at));
                    }
                    d.InsertRange(at, other.AsSpan(from, n).ToArray());
                    break;
                }
            default: // mode byte (targets read their first byte as a mode)
                d[0] = (byte)_random.Next(8);
                break;
        }
    }
}
