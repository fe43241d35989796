using System.Buffers.Binary;
using System.Text;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The key spaces of the index file (FORMAT.md §6.3), one prefix byte each, big-endian numbers so that byte
/// order is numeric order: sessions by number and by id; the listing spaces (sessions by user, newest first;
/// by activity time and by status and activity time, oldest first); per session its message entries by
/// sequence and its summaries by position; and the layout marker.
/// </summary>
internal static class IndexKeys
{
    public const byte Session = (byte)'S';
    public const byte SessionId = (byte)'I';
    public const byte User = (byte)'U';
    public const byte Time = (byte)'T';
    public const byte Message = (byte)'M';
    public const byte Summary = (byte)'Y';
    public const byte Status = (byte)'A';
    public const byte Role = (byte)'R';
    public const byte Layout = (byte)'V';
    public const byte Totals = (byte)'Z';
    public const byte Owing = (byte)'O';
    // Next to the layout key, which every open reads anyway: reading the packs at open touches no session page.
    public const byte Packs = (byte)'W';

    /// <summary>
    /// The key layout this build writes (the value of the <c>V</c> key); files without it are upgraded at open.
    /// Layout 5 writes session records of version 3 (varints, compact state); a file of layout 3 or 4 is read as
    /// it is, since every record says its version, and becomes layout 5 with its next commit.
    /// </summary>
    public const uint CurrentLayout = 5;

    /// <summary>The key of the layout marker.</summary>
    public static readonly byte[] LayoutKey = [Layout];

    /// <summary>The key of the store's totals (<see cref="StoreTotals"/>), from layout 3 on.</summary>
    public static readonly byte[] TotalsKey = [Totals];

    /// <summary>O number → empty: a session whose state owes an automatic summary or eviction (layout 3 on).</summary>
    public static byte[] ForOwing(ulong number) => Number(Owing, number);

    /// <summary><c>W</c>, u32 pack number (big-endian).</summary>
    public static byte[] ForPack(uint pack)
    {
        var key = new byte[5];
        key[0] = Packs;
        BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(1), pack);
        return key;
    }

    /// <summary>The pack number of a <c>W</c> key.</summary>
    public static uint PackOf(byte[] key) => key.Length == 5
        ? BinaryPrimitives.ReadUInt32BigEndian(key.AsSpan(1))
        : throw new InvalidDataException("Index pack key has the wrong length.");

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

    /// <summary>
    /// U len(u16) user(UTF-8) (MaxValue − updated ticks) (MaxValue − number) → empty: a user's sessions in listing
    /// order (newest activity first, then the newer session first).
    /// </summary>
    public static byte[] ForUser(string user, long updatedTicks, ulong number)
    {
        var k = new byte[UserPrefixLength(user) + 16];
        WriteUserPrefix(user, k);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(k.Length - 16), ulong.MaxValue - (ulong)updatedTicks);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(k.Length - 8), ulong.MaxValue - number);
        return k;
    }

    /// <summary>A user's whole range in <c>U</c>.</summary>
    public static (byte[] From, byte[] To) UserRange(string user)
    {
        var from = new byte[UserPrefixLength(user)];
        WriteUserPrefix(user, from);
        var to = new byte[from.Length + 17];
        from.CopyTo(to, 0);
        to.AsSpan(from.Length).Fill(0xFF);
        return (from, to); // the user's keys are the prefix and 16 more bytes: all below the prefix and 17 × 0xFF
    }

    /// <summary>Updated ticks and session number of a <c>U</c> key.</summary>
    public static (long UpdatedTicks, ulong Number) ListingOfUser(ReadOnlySpan<byte> key) => key.Length >= 19
        ? ((long)(ulong.MaxValue - BinaryPrimitives.ReadUInt64BigEndian(key[^16..])), ulong.MaxValue - BinaryPrimitives.ReadUInt64BigEndian(key[^8..]))
        : throw new InvalidDataException($"Index key of {key.Length} bytes where a user key was expected.");

    /// <summary>A status byte, updated ticks, number → empty: the sessions of one status, oldest activity first.</summary>
    public static byte[] ForStatus(SessionStatus status, long updatedTicks, ulong number)
    {
        var k = new byte[1 + 1 + 8 + 8];
        k[0] = Status;
        k[1] = (byte)status;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(2), (ulong)updatedTicks);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(10), number);
        return k;
    }

    /// <summary>The range of one status in <c>A</c>, up to (not including) <paramref name="beforeTicks"/>.</summary>
    public static (byte[] From, byte[] To) StatusRange(SessionStatus status, long beforeTicks = long.MaxValue) =>
        ([Status, (byte)status], beforeTicks == long.MaxValue ? [Status, (byte)((byte)status + 1)] : ForStatus(status, beforeTicks, 0));

    /// <summary>The range of <c>T</c> up to (not including) <paramref name="beforeTicks"/>.</summary>
    public static (byte[] From, byte[] To) TimeRange(long beforeTicks = long.MaxValue) =>
        ([Time], beforeTicks == long.MaxValue ? [Time + 1] : ForTime(beforeTicks, 0));

    /// <summary>Updated ticks and session number of a <c>T</c> or <c>A</c> key (both end in them).</summary>
    public static (long UpdatedTicks, ulong Number) ListingOfTime(ReadOnlySpan<byte> key) => key.Length is 17 or 18
        ? ((long)BinaryPrimitives.ReadUInt64BigEndian(key[^16..]), BinaryPrimitives.ReadUInt64BigEndian(key[^8..]))
        : throw new InvalidDataException($"Index key of {key.Length} bytes where a time key was expected.");

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

    /// <summary>R number role sequence → the message's time (i64): a session's messages of one role by sequence.</summary>
    public static byte[] ForRole(ulong number, MessageRole role, long sequence)
    {
        var k = new byte[1 + 8 + 1 + 8];
        k[0] = Role;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), number);
        k[9] = (byte)role;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(10), (ulong)Math.Max(0, sequence));
        return k;
    }

    /// <summary>A session's keys of <paramref name="role"/> with sequences from <paramref name="from"/> up to (not including) <paramref name="to"/>.</summary>
    public static (byte[] From, byte[] To) RoleRange(ulong number, MessageRole role, long from, long to) =>
        (ForRole(number, role, from), to == long.MaxValue ? ForRoleEnd(number, role) : ForRole(number, role, to));

    /// <summary>The sequence of an <c>R</c> key; <see cref="InvalidDataException"/> when the key (read from the file) is not one.</summary>
    public static long SequenceOfRole(byte[] key) => key.Length == 18
        ? (long)BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan(10))
        : throw new InvalidDataException($"Index key of {key.Length} bytes where a role key (18 bytes) was expected.");

    private static byte[] ForRoleEnd(ulong number, MessageRole role)
    {
        var k = new byte[1 + 8 + 1];
        k[0] = Role;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), number);
        k[9] = (byte)((byte)role + 1);
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

    private static int UserPrefixLength(string user) => 1 + 2 + Encoding.UTF8.GetByteCount(user);

    private static void WriteUserPrefix(string user, Span<byte> k)
    {
        k[0] = User;
        var n = Encoding.UTF8.GetBytes(user, k[3..]);
        BinaryPrimitives.WriteUInt16BigEndian(k[1..], (ushort)n);
    }

    private static byte[] Number(byte space, ulong number)
    {
        var k = new byte[9];
        k[0] = space;
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), number);
        return k;
    }
}
