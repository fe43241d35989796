using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Bench.Micro;

/// <summary>Record encode/decode of realistic chat text, with LZ4 (text above the threshold) and without (raw framing).</summary>
[MemoryDiagnoser]
public class RecordCodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _out = new(64 * 1024);
    private byte[] _payload = [];
    private byte[] _record = [];
    private byte[] _rawRecord = [];

    /// <summary>Payload size in bytes.</summary>
    [Params(200, 1024, 4096)]
    public int Size { get; set; }

    /// <summary>Builds the payload and the encoded records.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _payload = Encoding.UTF8.GetBytes(DataGenerator.Text(new Random(DataGenerator.Seed), Size));
        _record = EncodeTo(compress: true);
        _rawRecord = EncodeTo(compress: false);
    }

    /// <summary>Encode with LZ4 (the write path).</summary>
    [Benchmark(Baseline = true)]
    public int EncodeLz4()
    {
        _out.ResetWrittenCount();
        return RecordCodec.Encode(_out, Header(), _payload);
    }

    /// <summary>Encode the same payload without LZ4: header, copy, CRC.</summary>
    [Benchmark]
    public int EncodeRaw()
    {
        _out.ResetWrittenCount();
        return RecordCodec.Encode(_out, Header(), _payload, allowCompression: false);
    }

    /// <summary>Verify and decode an LZ4 record.</summary>
    [Benchmark]
    public int DecodeLz4() => Decode(_record);

    /// <summary>Verify and decode a raw record.</summary>
    [Benchmark]
    public int DecodeRaw() => Decode(_rawRecord);

    private static int Decode(byte[] record)
    {
        if (!RecordCodec.Verify(record, out var h))
        {
            throw new InvalidDataException("bad record");
        }
        var n = RecordCodec.DecodePayload(record, h, out var buffer);
        ArrayPool<byte>.Shared.Return(buffer);
        return n;
    }

    private static RecordHeader Header() => new(RecordType.Message, RecordFlags.None, 0, 0, 7, 42, 3, 638_000_000_000_000_000, 638_000_000_000_000_000, 1, 250);

    private byte[] EncodeTo(bool compress)
    {
        var w = new ArrayBufferWriter<byte>();
        RecordCodec.Encode(w, Header(), _payload, allowCompression: compress);
        return w.WrittenSpan.ToArray();
    }
}
