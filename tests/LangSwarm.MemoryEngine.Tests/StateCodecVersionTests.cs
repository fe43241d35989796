using System.Buffers;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>The session-state payload: version 2 carries the eviction low-water mark; version 1 reads with the default.</summary>
public sealed class StateCodecVersionTests
{
    private static byte[] Payload(byte version, Action<PayloadWriter>? tail = null)
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new PayloadWriter(output);
        w.WriteByte(version);
        w.WriteString("s");
        w.WriteString("u");
        w.WriteInt64(1);
        w.WriteInt64(2);
        w.WriteByte(0);
        w.WriteInt32(10);
        w.WriteInt32(4000);
        w.WriteInt32(100);
        w.WriteByte(0);
        w.WriteJson(null);
        w.WriteInt64(7);
        w.WriteInt32(5);
        w.WriteInt64(50);
        w.WriteInt64(2);
        tail?.Invoke(w);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void Version1_Payload_ReadsWithTheDefaultLowWaterMark()
    {
        var state = StateCodec.Read(Payload(1));
        Assert.Equal(SessionMetadata.DefaultEvictionLowWater, state.Metadata.EvictionLowWater);
        Assert.Equal((10, 4000, 100), (state.Metadata.MaxMessages, state.Metadata.MaxTokens, state.Metadata.AutoSummarizeThreshold));
        Assert.Equal((7L, 5, 50L, 2L), (state.LastSequence, state.LiveMessages, state.LiveTokens, state.SummarizedThrough));
    }

    [Fact]
    public void Written_Payload_IsVersion2_AndRoundTripsTheLowWaterMark()
    {
        var state = new SessionState(new SessionMetadata("s", "u") { EvictionLowWater = 0.65 }) { LastSequence = 3 };
        var output = new ArrayBufferWriter<byte>();
        StateCodec.Write(output, state);
        Assert.Equal(2, output.WrittenSpan[0]);
        var back = StateCodec.Read(output.WrittenSpan);
        Assert.Equal(0.65, back.Metadata.EvictionLowWater);
        Assert.Equal(3, back.LastSequence);
        Assert.Equal(Payload(2, w => w.WriteInt64(BitConverter.DoubleToInt64Bits(0.5))).Length, output.WrittenCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Unknown_Versions_AreRefused(byte version) =>
        Assert.Throws<InvalidDataException>(() => StateCodec.Read(Payload(version, w => w.WriteInt64(0))));
}
