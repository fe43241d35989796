using System.Text;
using K4os.Compression.LZ4;
using LangSwarm.MemoryEngine.Format;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// The write path's LZ4 encoder writes the very bytes LZ4Codec writes at the fast level (the reference compressor
/// at acceleration 1 that FORMAT.md §4.2 names), for every input, including one instance reused across many inputs.
/// </summary>
public sealed class Lz4FastEncoderTests
{
    private static readonly string[] Words = ["the", "session", "memory", "agent", "tool", "call", "summary", "token", "a", "of", "context", "window", "{\"id\":", "\"name\"", "42", "\n"];

    [Fact]
    public void SameBytesAsLZ4Codec_OnTextBinaryAndRepetitiveInputs()
    {
        var rnd = new Random(7);
        var encoder = new Lz4FastEncoder();
        var inputs = new List<byte[]>();
        foreach (var length in new[] { 0, 1, 4, 11, 12, 13, 14, 15, 16, 19, 20, 31, 96, 255, 256, 270, 1024, 4096, 65_535, 65_536, 65_545, 65_546, 65_547, 65_548, 100_000 })
        {
            for (var kind = 0; kind < 5; kind++)
            {
                inputs.Add(Make(rnd, length, kind));
            }
        }
        for (var i = 0; i < 3_000; i++)
        {
            inputs.Add(Make(rnd, rnd.Next(0, i % 100 == 0 ? 70_000 : 3_000), rnd.Next(5)));
        }
        var expected = new byte[LZ4Codec.MaximumOutputSize(100_000)];
        var actual = new byte[expected.Length];
        foreach (var input in inputs)
        {
            var e = LZ4Codec.Encode(input, expected, LZ4Level.L00_FAST);
            var a = encoder.Encode(input, actual);
            Assert.True(expected.AsSpan(0, e).SequenceEqual(actual.AsSpan(0, a)), $"{input.Length} bytes: LZ4Codec wrote {e}, the encoder {a}");
        }
    }

    [Fact]
    public void TableNumberWrap_StillMatchesLZ4Codec()
    {
        var rnd = new Random(3);
        var encoder = new Lz4FastEncoder();
        var expected = new byte[LZ4Codec.MaximumOutputSize(2_000)];
        var actual = new byte[expected.Length];
        // Past 65,535 calls the table is cleared and numbering starts over: entries of before must still read empty.
        for (var i = 0; i < 70_000; i++)
        {
            var input = Make(rnd, 200 + (i % 50), i % 5);
            var e = LZ4Codec.Encode(input, expected, LZ4Level.L00_FAST);
            var a = encoder.Encode(input, actual);
            Assert.True(expected.AsSpan(0, e).SequenceEqual(actual.AsSpan(0, a)), $"call {i}");
        }
    }

    [Fact]
    public void LongLiteralRuns_InATargetOfExactlyTheBound_SameBytesAndNothingWrittenPastIt()
    {
        // Literals are copied 8 bytes at a time: runs of every length mod 8, between short matches, in a target
        // no larger than the LZ4 bound (guard bytes after it must stay untouched).
        var rnd = new Random(11);
        var encoder = new Lz4FastEncoder();
        for (var i = 0; i < 2_000; i++)
        {
            var input = LiteralRuns(rnd, rnd.Next(13, 3_000));
            var bound = LZ4Codec.MaximumOutputSize(input.Length);
            var expected = new byte[bound];
            var actual = new byte[bound + 16];
            Array.Fill(actual, (byte)0xA5);
            var e = LZ4Codec.Encode(input, expected, LZ4Level.L00_FAST);
            var a = encoder.Encode(input, actual.AsSpan(0, bound));
            Assert.True(expected.AsSpan(0, e).SequenceEqual(actual.AsSpan(0, a)), $"input {i} ({input.Length} bytes): LZ4Codec wrote {e}, the encoder {a}");
            Assert.All(actual[bound..], b => Assert.Equal(0xA5, b));
        }
    }

    [Fact]
    public void SmallTarget_FallsBackToLZ4Codec()
    {
        var input = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("memory engine ", 40)));
        var expected = new byte[64];
        var actual = new byte[64];
        var e = LZ4Codec.Encode(input, expected, LZ4Level.L00_FAST);
        var a = new Lz4FastEncoder().Encode(input, actual);
        Assert.Equal(expected.AsSpan(0, e).ToArray(), actual.AsSpan(0, a).ToArray());
    }

    /// <summary>Random (incompressible) runs of 0 to 300 bytes, each followed by a short copy of earlier bytes.</summary>
    private static byte[] LiteralRuns(Random rnd, int length)
    {
        var x = new byte[length];
        var j = 0;
        while (j < length)
        {
            var run = Math.Min(rnd.Next(0, 301), length - j);
            rnd.NextBytes(x.AsSpan(j, run));
            j += run;
            if (j >= 12 && j < length)
            {
                var copy = Math.Min(rnd.Next(4, 12), length - j);
                Array.Copy(x, rnd.Next(0, j - copy + 1), x, j, copy);
                j += copy;
            }
        }
        return x;
    }

    private static byte[] Make(Random rnd, int length, int kind)
    {
        var x = new byte[length];
        switch (kind)
        {
            case 0:
                rnd.NextBytes(x);
                break;
            case 1:
                break; // zeros: one long match
            case 2:
                for (var j = 0; j < length; j++)
                {
                    x[j] = (byte)(j % 7);
                }
                break;
            case 3:
                var sb = new StringBuilder(length + 16);
                while (sb.Length < length)
                {
                    sb.Append(Words[rnd.Next(Words.Length)]).Append(' ');
                }
                Encoding.ASCII.GetBytes(sb.ToString(0, length), x);
                break;
            default:
                var alphabet = rnd.Next(1, 40);
                for (var j = 0; j < length; j++)
                {
                    x[j] = (byte)rnd.Next(alphabet);
                }
                for (var j = 0; j + 20 < length; j += rnd.Next(1, 100))
                {
                    Array.Copy(x, rnd.Next(0, j + 1), x, j, Math.Min(rnd.Next(4, 300), length - j));
                }
                break;
        }
        return x;
    }
}
