using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Numerics;

namespace LangSwarm.Memory;

/// <summary>
/// A byte-pair-encoding vocabulary (token bytes to rank) in three flat arrays: every token's bytes in one
/// <c>byte[]</c>, an <c>int[]</c> of where each rank's bytes start, and an open-addressing hash table of ranks.
/// o200k_base (200,000 tokens, 1.4 MB of bytes) then holds about 4 MB and a handful of objects, where a
/// dictionary of one <c>byte[]</c> and one <c>string</c> per token (Microsoft.ML.Tokenizers) holds about ten
/// times that. Immutable once loaded, so lookups need no lock.
/// </summary>
internal sealed class BpeVocabulary
{
    private const ulong Prime = 0x9E3779B97F4A7C15;

    /// <summary>The bytes of every token, rank after rank.</summary>
    private readonly byte[] _bytes;

    /// <summary>Token <c>r</c> is <c>_bytes[_offsets[r].._offsets[r + 1]]</c>.</summary>
    private readonly int[] _offsets;

    /// <summary>Rank + 1 by hash slot, linear probing; 0 is an empty slot.</summary>
    private readonly int[] _table;

    private readonly int _mask;

    private BpeVocabulary(byte[] bytes, int[] offsets, int count)
    {
        _bytes = bytes;
        _offsets = offsets;
        Count = count;
        // At most half full: linear probing then stays short (a miss, the common case inside a merge, ends at
        // the first empty slot), for 4 bytes a slot.
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, count * 2));
        _table = new int[size];
        _mask = size - 1;
        for (var rank = 0; rank < count; rank++)
        {
            var token = Token(rank);
            if (token.IsEmpty)
            {
                continue; // a blank line of the file: a rank with no token
            }
            var slot = (int)Hash(token) & _mask;
            while (_table[slot] != 0)
            {
                if (Token(_table[slot] - 1).SequenceEqual(token))
                {
                    throw new InvalidDataException($"Token {rank} repeats token {_table[slot] - 1}.");
                }
                slot = (slot + 1) & _mask;
            }
            _table[slot] = rank + 1;
        }
    }

    /// <summary>Number of ranks.</summary>
    public int Count { get; }

    /// <summary>Bytes of the arrays this vocabulary keeps (for tests and measurements).</summary>
    public long ManagedBytes => _bytes.Length + (4L * _offsets.Length) + (4L * _table.Length);

    /// <summary>The bytes of the token of <paramref name="rank"/>.</summary>
    public ReadOnlySpan<byte> Token(int rank) => _bytes.AsSpan(_offsets[rank], _offsets[rank + 1] - _offsets[rank]);

    /// <summary>The rank of the token whose bytes are <paramref name="token"/>, or -1 when no token is.</summary>
    public int Rank(ReadOnlySpan<byte> token)
    {
        var slot = (int)Hash(token) & _mask;
        while (true)
        {
            var entry = _table[slot];
            if (entry == 0)
            {
                return -1;
            }
            var start = _offsets[entry - 1];
            if (_offsets[entry] - start == token.Length && _bytes.AsSpan(start, token.Length).SequenceEqual(token))
            {
                return entry - 1;
            }
            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>
    /// Reads a tiktoken file: an optional <c>Capacity: n</c> line, then one token a line as base64, ranked by
    /// line (or <c>base64 rank</c> with ranks in order). The stream is read through one reused buffer and each
    /// token decoded straight into the shared byte array, so loading leaves no per-token garbage.
    /// </summary>
    public static BpeVocabulary LoadTiktoken(Stream stream)
    {
        var loader = new Loader();
        var buffer = new byte[64 * 1024];
        var filled = 0;
        while (true)
        {
            var read = stream.Read(buffer, filled, buffer.Length - filled);
            filled += read;
            var done = read == 0;
            var lineStart = 0;
            while (true)
            {
                var newline = buffer.AsSpan(lineStart, filled - lineStart).IndexOf((byte)'\n');
                if (newline < 0)
                {
                    if (!done)
                    {
                        break;
                    }
                    if (lineStart < filled)
                    {
                        loader.Line(buffer.AsSpan(lineStart, filled - lineStart)); // the last line has no newline
                    }
                    return loader.Build();
                }
                loader.Line(buffer.AsSpan(lineStart, newline));
                lineStart += newline + 1;
            }
            if (lineStart == 0 && filled == buffer.Length)
            {
                throw new InvalidDataException("A line of the vocabulary is longer than 64 KiB.");
            }
            buffer.AsSpan(lineStart, filled - lineStart).CopyTo(buffer);
            filled -= lineStart;
        }
    }

    /// <summary>
    /// An FNV-like multiply-xor over 8 bytes at a time with a final avalanche: tokens are short (at most 128
    /// bytes in o200k), so this is a few multiplications a lookup, and the avalanche spreads the ASCII-heavy
    /// keys over the low bits the mask keeps.
    /// </summary>
    private static uint Hash(ReadOnlySpan<byte> key)
    {
        var h = (ulong)key.Length * Prime;
        while (key.Length >= 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(key)) * Prime;
            h ^= h >> 29;
            key = key[8..];
        }
        ulong tail = 0;
        foreach (var b in key)
        {
            tail = (tail << 8) | b;
        }
        h = (h ^ tail) * Prime;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53;
        h ^= h >> 33;
        return (uint)h;
    }

    /// <summary>Builds the arrays line by line, growing them only when the file holds more than it announced.</summary>
    private sealed class Loader
    {
        private const string CapacityPrefix = "Capacity: ";

        private byte[]? _bytes;
        private int[]? _offsets;
        private int _count;
        private int _length;

        public void Line(ReadOnlySpan<byte> line)
        {
            if (line.EndsWith((byte)'\r'))
            {
                line = line[..^1];
            }
            if (_offsets is null)
            {
                // Sized from the header when there is one. o200k averages 7 bytes a token: 7 a token plus a
                // margin fits it without a copy; a file that needs more grows by half.
                var capacity = 1 << 16;
                if (line.StartsWith("Capacity: "u8))
                {
                    if (!Utf8Parser.TryParse(line[CapacityPrefix.Length..], out capacity, out var used) || used != line.Length - CapacityPrefix.Length || capacity < 0)
                    {
                        throw new InvalidDataException("The vocabulary's capacity line is malformed.");
                    }
                    Allocate(capacity);
                    return;
                }
                Allocate(capacity);
            }
            var space = line.IndexOf((byte)' ');
            if (space >= 0)
            {
                if (!Utf8Parser.TryParse(line[(space + 1)..], out int rank, out var used) || used != line.Length - space - 1 || rank != _count)
                {
                    throw new InvalidDataException($"Line {_count} of the vocabulary does not hold rank {_count}.");
                }
                line = line[..space];
            }
            Add(line);
        }

        public BpeVocabulary Build()
        {
            if (_offsets is null || _bytes is null || _count == 0)
            {
                throw new InvalidDataException("The vocabulary is empty.");
            }
            return new BpeVocabulary(_bytes, _offsets, _count);
        }

        private void Allocate(int capacity)
        {
            _offsets = new int[capacity + 1];
            _bytes = new byte[(capacity * 7) + (64 * 1024)];
        }

        private void Add(ReadOnlySpan<byte> base64)
        {
            if (_count + 1 >= _offsets!.Length)
            {
                Array.Resize(ref _offsets, _offsets.Length + (_offsets.Length / 2) + 1);
            }
            var most = Base64.GetMaxDecodedFromUtf8Length(base64.Length);
            if (_length + most > _bytes!.Length)
            {
                Array.Resize(ref _bytes, Math.Max(_bytes.Length + (_bytes.Length / 2), _length + most));
            }
            if (Base64.DecodeFromUtf8(base64, _bytes.AsSpan(_length), out var consumed, out var written) != OperationStatus.Done || consumed != base64.Length)
            {
                throw new InvalidDataException($"Line {_count} of the vocabulary is not base64.");
            }
            _length += written;
            _count++;
            _offsets[_count] = _length;
        }
    }
}
