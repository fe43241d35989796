using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Records of one write, encoded (and compressed) before the write enters the commit path; LSNs are stamped
/// in afterwards, under the gate, by patching the header and its checksum. Batches are pooled: the write
/// path allocates no buffer per record.
/// </summary>
internal sealed class RecordBatch
{
    private static readonly ConcurrentBag<RecordBatch> Pool = [];
    private readonly List<int> _starts = [];

    /// <summary>The batch's own LZ4 state: kept warm from one write to the next instead of built per record.</summary>
    private readonly Lz4FastEncoder _lz4 = new();

    public ArrayBufferWriter<byte> Buffer { get; } = new(4096);

    /// <summary>Scratch space for a payload before it is framed.</summary>
    public ArrayBufferWriter<byte> Payload { get; } = new(1024);

    public int Count => _starts.Count;

    /// <summary>
    /// One batch kept per thread beside the shared pool: a thread adding one message after another takes and
    /// gives back the same batch without the pool's synchronization (and without counting the pool, which
    /// locks all of it).
    /// </summary>
    [ThreadStatic]
    private static RecordBatch? t_spare;

    /// <summary>The cipher this batch's records are sealed with (null: a store without encryption).</summary>
    public StoreCipher? Cipher { get; private set; }

    /// <summary>A batch whose records are sealed with <paramref name="cipher"/> (null: not sealed).</summary>
    public static RecordBatch Rent(StoreCipher? cipher)
    {
        var batch = t_spare;
        if (batch is not null)
        {
            t_spare = null;
        }
        else if (!Pool.TryTake(out batch))
        {
            batch = new RecordBatch();
        }
        batch.Cipher = cipher;
        return batch;
    }

    public static void Return(RecordBatch batch)
    {
        batch.Buffer.ResetWrittenCount();
        batch.Payload.ResetWrittenCount();
        batch._starts.Clear();
        batch.Cipher = null;
        if (batch.Buffer.Capacity > 1 << 20)
        {
            return;
        }
        if (t_spare is null)
        {
            t_spare = batch;
        }
        else if (Pool.Count < 64)
        {
            Pool.Add(batch);
        }
    }

    /// <summary>
    /// Frames the payload now in <see cref="Payload"/> under <paramref name="header"/>, unsealed: every batch goes
    /// through <see cref="StampLsns"/>, which seals each record once its LSN is in the header (the seal
    /// authenticates the header, and the checksum covers the seal).
    /// </summary>
    /// <param name="header">The record header.</param>
    public void AddFromPayload(RecordHeader header)
    {
        _starts.Add(Buffer.WrittenCount);
        RecordCodec.Encode(Buffer, header, Payload.WrittenSpan, K4os.Compression.LZ4.LZ4Level.L00_FAST, allowCompression: true, seal: false, _lz4, Cipher);
        Payload.ResetWrittenCount();
    }

    /// <summary>Stamps consecutive LSNs from <paramref name="first"/>, then seals each record (cipher and checksum).</summary>
    public void StampLsns(ulong first)
    {
        var span = Buffer.WrittenMemory.Span;
        var writable = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span), span.Length);
        for (var i = 0; i < _starts.Count; i++)
        {
            var rec = writable[_starts[i]..RecordEnd(i)];
            BinaryPrimitives.WriteUInt64LittleEndian(rec[24..], first + (ulong)i);
            RecordCodec.Seal(rec, Cipher);
        }
    }

    public ReadOnlySpan<byte> Record(int i) => Buffer.WrittenSpan[_starts[i]..RecordEnd(i)];

    private int RecordEnd(int i) => i + 1 < _starts.Count ? _starts[i + 1] : Buffer.WrittenCount;
}
