using System.Runtime.InteropServices;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The index entry of one live message: enough to filter by time and role, budget tokens and find the record,
/// without reading its body. 40 bytes in memory; the index file stores it in 14 to 35 (FORMAT.md §6.3).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal readonly record struct MessageEntry(long Sequence, long TimeTicks, long Offset, int Length, int Tokens, uint Segment, byte Role, byte Flags, short Reserved)
{
    public const int Size = 40;

    public bool HasCalls => (Flags & 2) != 0;
}
