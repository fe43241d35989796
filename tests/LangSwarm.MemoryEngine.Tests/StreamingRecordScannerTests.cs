using System.Buffers;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Recovery;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>The pipelined replay scanner agrees with the in-memory one, across buffer boundaries and torn tails.</summary>
public sealed class StreamingRecordScannerTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 17)]
    [InlineData(3, 64)]
    [InlineData(4, 1000)]
    public void SameRecordsAndValidEnd_AsTheSpanScanner(int seed, int tornBytes)
    {
        var rnd = new Random(seed);
        var output = new ArrayBufferWriter<byte>();
        output.Write(new byte[32]); // where a file header would be
        var t = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        for (var i = 0; i < 60; i++)
        {
            // Sizes from tiny to larger than a pipe buffer, so records straddle reads.
            var payload = new byte[rnd.Next(4) == 0 ? rnd.Next(200_000, 600_000) : rnd.Next(0, 3000)];
            rnd.NextBytes(payload.AsSpan(0, payload.Length / 2)); // half random, half zeros: some compress
            RecordCodec.Encode(output, new RecordHeader(RecordType.Message, 0, 0, 0, 7, (ulong)i + 1, i + 1, t, t, 1, 3), payload);
        }
        var bytes = output.WrittenSpan.ToArray();
        if (tornBytes > 0)
        {
            var torn = new byte[2000];
            rnd.NextBytes(torn);
            bytes = [.. bytes, .. torn.AsSpan(0, Math.Min(tornBytes, torn.Length))];
        }

        var expected = new List<(long, ulong)>();
        var want = ReferenceRecordScanner.Scan(bytes.AsSpan(32), 32, (long offset, in RecordHeader h, ReadOnlySpan<byte> _) => expected.Add((offset, h.Lsn)), stopAtDamage: true);
        var got = new List<(long, ulong)>();
        var result = StreamingRecordScanner.Scan(
            ReaderOver(bytes),
            32,
            bytes.Length,
            (long offset, in RecordHeader h, ReadOnlySpan<byte> record) =>
            {
                Assert.True(RecordCodec.Verify(record, out _));
                got.Add((offset, h.Lsn));
            });

        Assert.Equal(60, expected.Count);
        Assert.Equal(expected, got);
        Assert.Equal(want.ValidEnd, result.ValidEnd);
        Assert.Equal(want.Records, result.Records);
    }

    [Theory]
    [InlineData(5, false)]
    [InlineData(6, true)]
    [InlineData(7, false)]
    [InlineData(8, true)]
    public void Resync_FindsTheSameRecordsAndDamage_AsTheReference_ThroughZerosAndGarbage(int seed, bool zeroTail)
    {
        var rnd = new Random(seed);
        var output = new ArrayBufferWriter<byte>();
        output.Write(new byte[32]);
        var t = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        for (var i = 0; i < 40; i++)
        {
            if (rnd.Next(4) == 0)
            {
                // A span that is not a record: zeros (an unwritten page) or garbage, some longer than a pipe buffer,
                // some holding a stray record magic.
                var span = new byte[rnd.Next(3) == 0 ? rnd.Next(300_000, 700_000) : rnd.Next(1, 500)];
                if (rnd.Next(2) == 0)
                {
                    rnd.NextBytes(span);
                }
                if (span.Length > 10)
                {
                    span[rnd.Next(span.Length - 2)] = 0x4C;
                }
                output.Write(span);
            }
            var payload = new byte[rnd.Next(0, 3000)];
            rnd.NextBytes(payload.AsSpan(0, payload.Length / 2));
            RecordCodec.Encode(output, new RecordHeader(RecordType.Message, 0, 0, 0, 7, (ulong)i + 1, i + 1, t, t, 1, 3), payload);
        }
        if (zeroTail)
        {
            output.Write(new byte[1 << 20]); // a preallocated log's padding
        }
        var bytes = output.WrittenSpan.ToArray();

        var expected = new List<(long, ulong)>();
        var want = ReferenceRecordScanner.Scan(bytes.AsSpan(32), 32, (long offset, in RecordHeader h, ReadOnlySpan<byte> _) => expected.Add((offset, h.Lsn)));
        var got = new List<(long, ulong)>();
        var result = StreamingRecordScanner.Scan(
            ReaderOver(bytes),
            32,
            bytes.Length,
            (long offset, in RecordHeader h, ReadOnlySpan<byte> record) => got.Add((offset, h.Lsn)),
            resync: true);

        Assert.Equal(40, expected.Count);
        Assert.Equal(expected, got);
        Assert.Equal(want.Damage, result.Damage);
        Assert.Equal(want.ValidEnd, result.ValidEnd);
    }

    /// <summary>Positional reads of <paramref name="bytes"/>, as from a file holding them.</summary>
    private static StreamingRecordScanner.PositionalRead ReaderOver(byte[] bytes) => (at, buffer) =>
    {
        var n = (int)Math.Min(buffer.Length, bytes.Length - at);
        bytes.AsSpan((int)at, n).CopyTo(buffer);
        return n;
    };
}
