using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using K4os.Compression.LZ4;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>
/// LZ4 block compression at the fast level that keeps its hash table between calls. It runs the reference
/// LZ4 fast algorithm (acceleration 1; below 64 KB a 13-bit hash of 4 bytes into 16-bit positions) and so
/// writes exactly the bytes <see cref="LZ4Codec.Encode(ReadOnlySpan{byte}, Span{byte}, LZ4Level)"/> writes at
/// <see cref="LZ4Level.L00_FAST"/>: the record format does not change (tests compare the two byte for byte).
/// </summary>
/// <remarks>
/// Why it exists: LZ4Codec builds a fresh 16 KB state and clears it on every call, which for a 1 KB chat
/// message is a large share of the whole compression. Here each table entry carries the number of the call
/// that wrote it, and an entry of an earlier call reads as an empty one, exactly as in a cleared table; the
/// table is cleared only when that number wraps. An instance is not thread-safe: each pooled record batch
/// owns one. Empty inputs, inputs of 64 KB and more, targets smaller than the LZ4 bound and big-endian
/// machines go to LZ4Codec.
/// </remarks>
internal sealed unsafe class Lz4FastEncoder
{
    /// <summary>Inputs below this use 16-bit positions (LZ4's 64 KB limit: 64 KB + MFLIMIT - 1).</summary>
    public const int MaxInput = (64 * 1024) + MfLimit - 1 - 1;

    private const int MinMatch = 4;
    private const int MfLimit = 12;
    private const int LastLiterals = 5;
    private const int MinLength = MfLimit + 1;
    private const int MlBits = 4;
    private const int MlMask = (1 << MlBits) - 1;
    private const int RunMask = (1 << (8 - MlBits)) - 1;
    private const int SkipTrigger = 6;
    private const int HashLog = 13;

    private readonly uint[] _table = new uint[1 << HashLog];
    private uint _call;

    /// <summary>Compresses <paramref name="source"/> into <paramref name="target"/>; returns the compressed length.</summary>
    public int Encode(ReadOnlySpan<byte> source, Span<byte> target)
    {
        if (source.IsEmpty || source.Length > MaxInput || target.Length < LZ4Codec.MaximumOutputSize(source.Length) || !BitConverter.IsLittleEndian)
        {
            return LZ4Codec.Encode(source, target, LZ4Level.L00_FAST);
        }
        if (++_call > ushort.MaxValue)
        {
            Array.Clear(_table);
            _call = 1;
        }
        fixed (byte* src = source)
        fixed (byte* dst = target)
        fixed (uint* table = _table)
        {
            return Compress(src, source.Length, dst, table, _call << 16);
        }
    }

    private static int Compress(byte* src, int length, byte* dst, uint* table, uint stamp)
    {
        var ip = src;
        var anchor = src;
        var end = src + length;
        var matchSearchEnd = end - MfLimit + 1;
        var matchLimit = end - LastLiterals;
        var op = dst;
        if (length >= MinLength)
        {
            Put(table, Hash(ip), 0, stamp);
            ip++;
            var forwardHash = Hash(ip);
            while (true)
            {
                // Find a match, stepping further the longer none is found.
                byte* match;
                var forwardIp = ip;
                var step = 1;
                var attempts = 1 << SkipTrigger;
                while (true)
                {
                    var h = forwardHash;
                    var current = (uint)(forwardIp - src);
                    match = src + Get(table, h, stamp);
                    ip = forwardIp;
                    forwardIp += step;
                    step = attempts++ >> SkipTrigger;
                    if (forwardIp > matchSearchEnd)
                    {
                        goto Last;
                    }
                    forwardHash = Hash(forwardIp);
                    Put(table, h, current, stamp);
                    if (Unsafe.ReadUnaligned<uint>(match) == Unsafe.ReadUnaligned<uint>(ip))
                    {
                        break;
                    }
                }
                // Extend the match backwards over literals.
                while (ip > anchor && match > src && ip[-1] == match[-1])
                {
                    ip--;
                    match--;
                }
                var token = op++;
                var literals = (int)(ip - anchor);
                *token = (byte)(Math.Min(literals, RunMask) << MlBits);
                op = WriteLength(op, literals);
                WildCopy(op, anchor, literals);
                op += literals;
                while (true)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(op, 2), (ushort)(ip - match));
                    op += 2;
                    var matchCode = Count(ip + MinMatch, match + MinMatch, matchLimit);
                    ip += matchCode + MinMatch;
                    *token += (byte)Math.Min(matchCode, MlMask);
                    if (matchCode >= MlMask)
                    {
                        op = WriteRest(op, matchCode - MlMask);
                    }
                    anchor = ip;
                    if (ip >= matchSearchEnd)
                    {
                        goto Last;
                    }
                    Put(table, Hash(ip - 2), (uint)(ip - 2 - src), stamp);
                    // A match right here starts a sequence with no literals.
                    var h = Hash(ip);
                    match = src + Get(table, h, stamp);
                    Put(table, h, (uint)(ip - src), stamp);
                    if (Unsafe.ReadUnaligned<uint>(match) != Unsafe.ReadUnaligned<uint>(ip))
                    {
                        break;
                    }
                    token = op++;
                    *token = 0;
                }
                forwardHash = Hash(++ip);
            }
        }
    Last:
        var lastRun = (int)(end - anchor);
        *op++ = (byte)(Math.Min(lastRun, RunMask) << MlBits);
        op = WriteLength(op, lastRun);
        new ReadOnlySpan<byte>(anchor, lastRun).CopyTo(new Span<byte>(op, lastRun));
        return (int)(op + lastRun - dst);
    }

    /// <summary>
    /// Copies a sequence's <paramref name="count"/> literals 8 bytes at a time, so up to 7 bytes past them are
    /// read and written. Chat text is mostly literals in short runs, where a memmove call per run costs more
    /// than the copy. Both overruns stay inside the buffers: the literals end where a match starts, at least
    /// <see cref="MfLimit"/> bytes before the end of the input; and after them this sequence's offset (2 bytes)
    /// and the last sequence (a token and at least <see cref="LastLiterals"/> literals) still follow in the
    /// target, so the bytes written past the literals are overwritten later and lie inside the output (which
    /// <see cref="Encode"/> requires to be at least the LZ4 bound). The last literals, which nothing follows,
    /// are copied exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WildCopy(byte* op, byte* from, int count)
    {
        var end = op + count;
        do
        {
            Unsafe.WriteUnaligned(op, Unsafe.ReadUnaligned<ulong>(from));
            op += 8;
            from += 8;
        }
        while (op < end);
    }

    /// <summary>The bytes after a token of a run of <paramref name="length"/> literals (none below 15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* WriteLength(byte* op, int length) => length >= RunMask ? WriteRest(op, length - RunMask) : op;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* WriteRest(byte* op, int rest)
    {
        for (; rest >= 255; rest -= 255)
        {
            *op++ = 255;
        }
        *op++ = (byte)rest;
        return op;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(byte* p) => (Unsafe.ReadUnaligned<uint>(p) * 2654435761U) >> ((MinMatch * 8) - HashLog);

    /// <summary>The position in the entry, or 0 (what a cleared table holds) when an earlier call wrote it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Get(uint* table, uint h, uint stamp)
    {
        var e = table[h];
        return (e & 0xFFFF0000u) == stamp ? e & 0xFFFFu : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(uint* table, uint h, uint position, uint stamp) => table[h] = stamp | position;

    /// <summary>Bytes equal at <paramref name="p"/> and <paramref name="match"/>, up to <paramref name="limit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Count(byte* p, byte* match, byte* limit)
    {
        var start = p;
        while (p < limit - 7)
        {
            var diff = Unsafe.ReadUnaligned<ulong>(p) ^ Unsafe.ReadUnaligned<ulong>(match);
            if (diff != 0)
            {
                return (int)(p - start) + (BitOperations.TrailingZeroCount(diff) >> 3);
            }
            p += 8;
            match += 8;
        }
        while (p < limit && *p == *match)
        {
            p++;
            match++;
        }
        return (int)(p - start);
    }
}
