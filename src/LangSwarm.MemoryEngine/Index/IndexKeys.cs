using System.Buffers.Binary;
using System.Text;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The key spaces of the index file (FORMAT.md §6.3), one prefix byte each, big-endian numbers so that byte
/// order is numeric order: sessions by number and by id, sessions by user (newest first) and by activity
/// time (oldest first), and per session its message entries by sequence and its summaries by position.
/// </summary>
internal static class IndexKeys
{
    public const byte Session = (byte)'S';
    public const byte SessionId = (byte)'I';
    public const byte User = (byte)'U';
    public const byte Time = (byte)'T';
    public const byte Message = (byte)'M';
    public const byte Summary = (byte)'Y';

    /// <summary>S number → session record.</summary>
    public static byte[] ForSession(ulong number) => Number(Session, number);

    /// <summary>I id(UTF-8) → number.</summary>
    public static byte[] ForSessionId(string id)
    {
        var k = new byte[1 + Encoding.UTF8.GetByteCount(id)];
        k[0] = SessionId;
        Encoding.UTF8.GetBytes(id, k.AsSpan(1));
        return k;
    }

    /// <summary>U len(u16) user(UTF-8) (MaxValue − updated ticks) number → empty: a user's sessions, newest first.</summary>
    public static byte[] ForUser(string user, long updatedTicks, ulong number)
    {
        var n = Encoding.UTF8.GetByteCount(user);
        var k = new byte[1 + 2 + n + 8 + 8];
        k[0] = User;
        BinaryPrimitives.WriteUInt16BigEndian(k.AsSpan(1), (ushort)n);
        Encoding.UTF8.GetBytes(user, k.AsSpan(3));
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(3 + n), ulong.MaxValue - (ulong)updatedTicks);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(3 + n + 8), number);
        return k;
    }

    /// <summary>T updated ticks, number → empty: sessions by last activity, oldest first (cleanup).</summary>
    public static byte[] ForTime(long updatedTicks, ulong number)
    {
        var k = new byte[1 + 8 + 8];
        k[0] = Time;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), (ulong)updatedTicks);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(9), number);
        return k;
    }

    /// <summary>M number sequence → 32-byte message entry.</summary>
    public static byte[] ForMessage(ulong number, long sequence)
    {
        var k = new byte[1 + 8 + 8];
        k[0] = Message;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), number);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(9), (ulong)Math.Max(0, sequence));
        return k;
    }

    /// <summary>Y number position → summary record.</summary>
    public static byte[] ForSummary(ulong number, int position)
    {
        var k = new byte[1 + 8 + 4];
        k[0] = Summary;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), number);
        BinaryPrimitives.WriteUInt32BigEndian(k.AsSpan(9), (uint)position);
        return k;
    }

    /// <summary>The first key of a session's range in <paramref name="space"/>.</summary>
    public static byte[] RangeStart(byte space, ulong number) => Number(space, number);

    /// <summary>The first key past a session's range in <paramref name="space"/>.</summary>
    public static byte[] RangeEnd(byte space, ulong number) => number == ulong.MaxValue ? [(byte)(space + 1)] : Number(space, number + 1);

    /// <summary>The whole of <paramref name="space"/>: [space, space + 1).</summary>
    public static (byte[] From, byte[] To) Space(byte space) => ([space], [(byte)(space + 1)]);

    /// <summary>The session number of an <c>S</c> key; <see cref="InvalidDataException"/> when the key (read from the file) is not one.</summary>
    public static ulong NumberOf(byte[] key) => key.Length == 9
        ? BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan(1))
        : throw new InvalidDataException($"Index key of {key.Length} bytes where a session number (9 bytes) was expected.");

    /// <summary>The sequence of an <c>M</c> key; <see cref="InvalidDataException"/> when the key (read from the file) is not one.</summary>
    public static long SequenceOf(byte[] key) => key.Length == 17
        ? (long)BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan(9))
        : throw new InvalidDataException($"Index key of {key.Length} bytes where a message key (17 bytes) was expected.");

    private static byte[] Number(byte space, ulong number)
    {
        var k = new byte[9];
        k[0] = space;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), number);
        return k;
    }
}
