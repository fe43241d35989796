using System.Buffers;
using System.IO.Pipelines;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// Replays the records of a file region through a <see cref="PipeReader"/>: the region streams in 256 KiB
/// reads instead of being loaded whole (a commit log is up to <c>CheckpointLogBytes</c>, 64 MiB by default),
/// and a record is copied only when it straddles two buffers. Recovery semantics: the first record that does
/// not verify ends the valid data (what follows it is unsynced tail).
/// </summary>
internal static class StreamingRecordScanner
{
    private const int ChunkSize = 256 * 1024;

    /// <summary>Reads up to <c>buffer.Length</c> bytes at a file offset; returns bytes read.</summary>
    public delegate int PositionalRead(long offset, Span<byte> buffer);

    /// <summary>
    /// Scans [<paramref name="start"/>, <paramref name="end"/>) of a file read by <paramref name="read"/>. With
    /// <paramref name="resync"/> (commit logs), a record that does not verify is skipped byte by byte to the next
    /// one that does, and the skipped span is reported as damage; a bad span with nothing valid after it is
    /// still the torn tail. Without it (segment tails), the first bad record ends the valid data.
    /// </summary>
    public static ScanResult Scan(PositionalRead read, long start, long end, RecordVisitor visit, bool resync = false)
    {
        using var stream = new RegionStream(read, start, end);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ChunkSize, minimumReadSize: ChunkSize / 4, leaveOpen: true));
        var pos = start;
        var records = 0;
        long? badFrom = null;
        var damage = new List<(long Offset, long Length)>();
        byte[]? straddling = null;
        Span<byte> head = stackalloc byte[RecordHeader.Size];
        try
        {
            while (true)
            {
                // The stream below completes synchronously, so this never blocks a thread on I/O it does not own.
                var pending = reader.ReadAsync();
                var result = pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
                var rest = result.Buffer;
                while (rest.Length >= RecordHeader.Size)
                {
                    rest.Slice(0, RecordHeader.Size).CopyTo(head);
                    var ok = RecordHeader.TryRead(head, out var h, out _);
                    if (ok && rest.Length < h.TotalLength)
                    {
                        if (!result.IsCompleted)
                        {
                            break; // wait for the rest of the record (its length is bounded by TryRead)
                        }
                        ok = false; // it claims more bytes than the file holds
                    }
                    var header = default(RecordHeader);
                    ReadOnlySpan<byte> record = default;
                    if (ok)
                    {
                        var bytes = rest.Slice(0, h.TotalLength);
                        if (bytes.IsSingleSegment)
                        {
                            record = bytes.FirstSpan;
                        }
                        else
                        {
                            if (straddling is null || straddling.Length < h.TotalLength)
                            {
                                if (straddling is not null)
                                {
                                    ArrayPool<byte>.Shared.Return(straddling);
                                }
                                straddling = ArrayPool<byte>.Shared.Rent(h.TotalLength);
                            }
                            bytes.CopyTo(straddling);
                            record = straddling.AsSpan(0, h.TotalLength);
                        }
                        ok = RecordCodec.Verify(record, out header);
                    }
                    if (!ok)
                    {
                        if (!resync)
                        {
                            return new ScanResult(pos, records, damage);
                        }
                        badFrom ??= pos;
                        var skip = NextCandidate(rest.FirstSpan);
                        pos += skip;
                        rest = rest.Slice(skip);
                        continue;
                    }
                    if (badFrom is { } from)
                    {
                        damage.Add((from, pos - from));
                        badFrom = null;
                    }
                    visit(pos, header, record[..header.TotalLength]);
                    pos += header.TotalLength;
                    records++;
                    rest = rest.Slice(header.TotalLength);
                }
                if (result.IsCompleted)
                {
                    return new ScanResult(badFrom ?? pos, records, damage); // anything left is a torn tail
                }
                reader.AdvanceTo(rest.Start, result.Buffer.End);
            }
        }
        finally
        {
            reader.Complete();
            if (straddling is not null)
            {
                ArrayPool<byte>.Shared.Return(straddling);
            }
        }
    }

    /// <summary>
    /// How far to move from a position where no record verifies to the next one where a record can start: one
    /// whose header magic (bytes 4..5) is there. Skipping through a preallocated log's zeros, or a damaged span,
    /// then costs a vectorized search instead of a header check per byte.
    /// </summary>
    private static int NextCandidate(ReadOnlySpan<byte> span)
    {
        const int MagicAt = 4;
        if (span.Length <= MagicAt + 2)
        {
            return 1;
        }
        ReadOnlySpan<byte> magic = [RecordHeader.Magic & 0xFF, RecordHeader.Magic >> 8];
        var i = span[(MagicAt + 1)..].IndexOf(magic);
        // A match at i puts the magic at offset i + 5, so a record there starts at i + 1. Without a match, no
        // start whose magic lies inside this span is left: the next candidate is the first whose magic does not.
        return i >= 0 ? i + 1 : span.Length - MagicAt - 1;
    }

    /// <summary>A read-only stream over a file region, reading synchronously through positional reads.</summary>
    private sealed class RegionStream(PositionalRead read, long from, long end) : Stream
    {
        private readonly long _start = from;
        private long _position = from;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => end - _start;

        public override long Position
        {
            get => _position - _start;
            set => throw new NotSupportedException();
        }

        public override int Read(Span<byte> buffer)
        {
            var want = (int)Math.Min(buffer.Length, end - _position);
            if (want <= 0)
            {
                return 0;
            }
            var n = read(_position, buffer[..want]);
            _position += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
