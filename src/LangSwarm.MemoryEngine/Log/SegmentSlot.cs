using System.Buffers;
using System.Numerics;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// One open segment in <see cref="SegmentFiles"/>' cache: its handle, its place in the cache's LRU list, and the
/// appends it holds back (see <see cref="SegmentFiles"/> for why holding them is safe). <see cref="Users"/>,
/// <see cref="Closed"/> and <see cref="Dirty"/> are guarded by the cache's lock; the buffered appends by locking
/// the slot itself.
/// </summary>
internal sealed class SegmentSlot(IStorageFile file, LinkedListNode<(ulong, uint)> node)
{
    /// <summary>Most bytes buffered before they are written.</summary>
    /// <remarks>
    /// Sized so the <c>write</c> system call is shared by some sixty 1-KB adds of a session; the buffer is a
    /// pooled array taken at the first append after a write and given back at the next write, so an idle session
    /// holds none. Larger buffers measured slower (they stop fitting the CPU caches beside the page cache copy).
    /// </remarks>
    public const int BufferBytes = 64 * 1024;

    /// <summary>The buffer's first size: grown as appends need, up to <see cref="BufferBytes"/>.</summary>
    private const int StartBytes = 4 * 1024;

    private byte[]? _pending;
    private int _lastBytes; // bytes the last write of the buffer carried
    private int _count;
    private long _offset;

    public IStorageFile File { get; } = file;

    public LinkedListNode<(ulong, uint)> Node { get; } = node;

    /// <summary>Callers between acquiring and releasing the slot.</summary>
    public int Users { get; set; }

    /// <summary>Left the cache: the last user to release it closes the file.</summary>
    public bool Closed { get; set; }

    /// <summary>
    /// Its key is in the cache's set of segments to fsync at the next checkpoint, so an append need not add it
    /// again (a set insertion per add otherwise). False whenever the key may be missing from the set.
    /// </summary>
    public bool Dirty { get; set; }

    /// <summary>Appends or writes <paramref name="data"/> at <paramref name="offset"/>; the caller holds the slot's lock.</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        if (_count > 0 && (offset != _offset + _count || _count + data.Length > BufferBytes))
        {
            WritePending();
        }
        if (data.Length >= BufferBytes)
        {
            File.Write(offset, data);
            return;
        }
        if (_count == 0)
        {
            _offset = offset;
        }
        if (_pending is null || _count + data.Length > _pending.Length)
        {
            Grow(_count + data.Length);
        }
        data.CopyTo(_pending.AsSpan(_count));
        _count += data.Length;
    }

    /// <summary>Writes the buffered bytes to the file; the caller holds the slot's lock.</summary>
    // The buffer starts small and doubles up to BufferBytes: a store writing round-robin over many sessions
    // has hundreds of slots each holding an add or two, and a full-size buffer apiece would hold megabytes of
    // mostly empty arrays that outlive the young generation.
    private void Grow(int needed)
    {
        // A slot that filled a big buffer before starts with one that size again (a busy session's next round).
        var size = Math.Min(BufferBytes, Math.Max(Math.Max(StartBytes, _lastBytes), (int)BitOperations.RoundUpToPowerOf2((uint)needed)));
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        if (_pending is { } old)
        {
            old.AsSpan(0, _count).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(old);
        }
        _pending = bigger;
    }

    public void WritePending()
    {
        if (_count == 0)
        {
            return;
        }
        File.Write(_offset, _pending.AsSpan(0, _count));
        _lastBytes = _count;
        DropPending();
    }

    /// <summary>Forgets the buffered bytes (the file is going away); the caller holds the slot's lock.</summary>
    public void DropPending()
    {
        _count = 0;
        if (_pending is { } buffer)
        {
            // Back to the pool at once: idle sessions hold no buffer.
            _pending = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
