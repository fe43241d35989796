using System.Buffers;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Index;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Session records (FORMAT.md §6.3): version 3, which layout 5 writes, and the fixed-width versions 1 and 2 of
/// earlier layouts read back to the entry that was written, with any field at the ends of its range; a record
/// cut short anywhere is damage, never another exception.
/// </summary>
public sealed class SessionRecordTests
{
    [Fact]
    public void EveryVersion_RoundTrips_AndReadsItsOutline()
    {
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<int>(), seed =>
        {
            var (entry, messages, summaries) = Generate(new Random(seed));
            foreach (var write in new Action<IBufferWriter<byte>, SessionEntry, int, int>[] { SessionRecord.Write, SessionRecord.WriteFixedWidth })
            {
                var output = new ArrayBufferWriter<byte>();
                write(output, entry, messages, summaries);
                var value = output.WrittenSpan.ToArray();
                var read = SessionRecord.Read(entry.Number, value, null!, out var m, out var s);
                Assert.Equal((messages, summaries), (m, s));
                Assert.Equal((entry.LastLsn, entry.DeadBytes, entry.LastStateLength, entry.Cold, entry.Pack), (read.LastLsn, read.DeadBytes, read.LastStateLength, read.Cold, read.Pack));
                Assert.Equal(entry.Segments, read.Segments);
                Assert.Equal(State(entry.State), State(read.State));
                var outline = SessionRecord.ReadOutline(entry.Number, value);
                Assert.Equal(entry.Segments, outline.Segments);
                var meta = entry.State.Metadata;
                Assert.Equal((entry.DeadBytes, entry.Cold, meta.Status, entry.Pack, meta.UpdatedAt.UtcTicks), (outline.DeadBytes, outline.Cold, outline.Status, outline.Pack, outline.UpdatedTicks));
                // Rewriting what was read gives the same bytes.
                var again = new ArrayBufferWriter<byte>();
                write(again, read, m, s);
                Assert.Equal(value, again.WrittenSpan.ToArray());
            }
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), prop);
    }

    [Fact]
    public void ARecordCutShort_IsDamage()
    {
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<int>(), seed =>
        {
            var (entry, messages, summaries) = Generate(new Random(seed));
            var output = new ArrayBufferWriter<byte>();
            SessionRecord.Write(output, entry, messages, summaries);
            var value = output.WrittenSpan.ToArray();
            for (var cut = 0; cut < value.Length; cut++)
            {
                Assert.Throws<InvalidDataException>(() => SessionRecord.Read(entry.Number, value.AsSpan(0, cut), null!, out _, out _));
            }
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(50), prop);
    }

    [Fact]
    public void TheDefaultLowWaterMark_IsLeftOut_AndReadBack()
    {
        var (entry, messages, summaries) = Generate(new Random(2));
        var sizes = new List<int>();
        foreach (var lowWater in new[] { SessionMetadata.DefaultEvictionLowWater, 0.5 })
        {
            entry.State.Metadata.EvictionLowWater = lowWater;
            var output = new ArrayBufferWriter<byte>();
            SessionRecord.Write(output, entry, messages, summaries);
            Assert.Equal(lowWater == SessionMetadata.DefaultEvictionLowWater ? 4 : 0, output.WrittenSpan[1] & 4);
            Assert.Equal(lowWater, SessionRecord.Read(entry.Number, output.WrittenSpan, null!, out _, out _).State.Metadata.EvictionLowWater);
            sizes.Add(output.WrittenCount);
        }
        Assert.Equal(sizes[1] - 8, sizes[0]);
    }

    [Fact]
    public void UnknownFlagsAndOutOfRangeFields_AreDamage()
    {
        var (entry, messages, summaries) = Generate(new Random(1));
        var output = new ArrayBufferWriter<byte>();
        SessionRecord.Write(output, entry, messages, summaries);
        var value = output.WrittenSpan.ToArray();
        Assert.Equal(3, value[0]);
        var flags = (byte[])value.Clone();
        flags[1] |= 8;
        Assert.Throws<InvalidDataException>(() => SessionRecord.Read(1, flags, null!, out _, out _));
        var version = (byte[])value.Clone();
        version[0] = 4;
        Assert.Throws<InvalidDataException>(() => SessionRecord.Read(1, version, null!, out _, out _));

        // An updated time that the created time and its difference put past the last valid time.
        Assert.Equal(DateTimeOffset.MaxValue.UtcTicks, CompactStateCodec.ReadStatus(CompactState(DateTimeOffset.MaxValue.UtcTicks, 0)).UpdatedTicks);
        Assert.Throws<InvalidDataException>(() => CompactStateCodec.ReadStatus(CompactState(DateTimeOffset.MaxValue.UtcTicks, TimeSpan.TicksPerDay)));
        Assert.Throws<InvalidDataException>(() => CompactStateCodec.ReadStatus(CompactState(0, -1)));
        Assert.Throws<InvalidDataException>(() => CompactStateCodec.ReadStatus(CompactState(long.MaxValue, long.MaxValue)));
    }

    /// <summary>The start of a compact state: ids, the created time and the updated time's difference, status.</summary>
    private static byte[] CompactState(long created, long delta)
    {
        var s = new ArrayBufferWriter<byte>();
        var w = new PayloadWriter(s);
        w.WriteString("s");
        w.WriteString(null);
        w.WriteInt64(created);
        w.WriteVarint(CompactStateCodec.ZigZag(delta));
        w.WriteByte(0);
        return s.WrittenSpan.ToArray();
    }

    private static byte[] State(SessionState s)
    {
        var w = new ArrayBufferWriter<byte>();
        StateCodec.Write(w, s);
        return w.WrittenSpan.ToArray();
    }

    private static (SessionEntry Entry, int Messages, int Summaries) Generate(Random rng)
    {
        long Pick(params long[] values) => values[rng.Next(values.Length)];
        int PickInt() => (int)Pick(int.MinValue, -1, 0, 1, 127, 128, rng.Next(), int.MaxValue);
        var min = DateTimeOffset.MinValue.UtcTicks;
        var max = DateTimeOffset.MaxValue.UtcTicks;
        var created = Pick(min, max, 639_029_198_450_000_000, rng.NextInt64(min, max));
        var updated = Pick(min, max, created, Math.Min(max, created + rng.Next(1_000_000_000)), rng.NextInt64(min, max));
        var meta = new SessionMetadata($"s-{rng.Next()}", rng.Next(3) == 0 ? null : $"user-{rng.Next(1000)}")
        {
            CreatedAt = new DateTimeOffset(created, TimeSpan.Zero),
            UpdatedAt = new DateTimeOffset(updated, TimeSpan.Zero),
            Status = (SessionStatus)rng.Next(3),
            MaxMessages = PickInt(),
            MaxTokens = PickInt(),
            AutoSummarizeThreshold = PickInt(),
            SummaryStrategy = (SummaryStrategy)rng.Next(3),
            EvictionLowWater = rng.Next(3) switch { 0 => SessionMetadata.DefaultEvictionLowWater, 1 => 1.0, _ => rng.NextDouble() + double.Epsilon },
        };
        if (rng.Next(2) == 0)
        {
            meta.Metadata = new JsonObject { ["topic"] = "weather", ["n"] = rng.Next() };
        }
        var state = new SessionState(meta)
        {
            LastSequence = Pick(0, 1, long.MaxValue, rng.NextInt64()),
            LiveMessages = PickInt(),
            LiveTokens = Pick(0, long.MaxValue, long.MinValue, rng.NextInt64()),
            SummarizedThrough = Pick(0, long.MaxValue, rng.NextInt64()),
        };
        var packed = rng.Next(2) == 0;
        var entry = new SessionEntry((ulong)rng.NextInt64(1, long.MaxValue), state)
        {
            LastLsn = (ulong)Pick(0, 1, long.MaxValue, rng.NextInt64()) * (uint)rng.Next(1, 3),
            DeadBytes = Pick(0, 1, long.MaxValue, rng.NextInt64()),
            LastStateLength = (int)Pick(0, 64, int.MaxValue),
            Cold = rng.Next(2) == 0,
        };
        var next = packed ? (uint)rng.Next(0, 1 << 20) : 0u;
        var segments = rng.Next(packed ? 0 : 1, 4);
        for (var i = 0; i < segments; i++)
        {
            var number = next + (uint)i + (uint)(i == 0 ? rng.Next(0, 3000) : 0);
            entry.Segments.Add(new SegmentExtent(Math.Min(number, int.MaxValue - 4u), Pick(FileHeader.Size, SessionRecord.MaxSegmentLength, rng.NextInt64(FileHeader.Size, SessionRecord.MaxSegmentLength))));
        }
        if (packed)
        {
            entry.Pack = new PackGroup((uint)rng.Next(1, int.MaxValue), Pick(FileHeader.Size, long.MaxValue / 2), Pick(RecordHeader.Size, SessionRecord.MaxSegmentLength), next);
        }
        return (entry, rng.Next(0, int.MaxValue), rng.Next(0, int.MaxValue));
    }
}
