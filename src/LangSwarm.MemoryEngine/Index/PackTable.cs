using System.Buffers;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// Where a packed session's compacted records lie: bytes [<paramref name="Offset"/>, +<paramref name="Length"/>)
/// of pack <paramref name="Pack"/>, starting with its opening record. <paramref name="NextSegment"/> is the number
/// its next own segment takes when it is written again (its own segments before the pack were numbered below).
/// </summary>
internal readonly record struct PackGroup(uint Pack, long Offset, long Length, uint NextSegment);

/// <summary>What the index file holds for one pack (key space W, FORMAT.md §6.3).</summary>
/// <param name="Length">The pack's length.</param>
/// <param name="Live">Bytes of the groups sessions still name.</param>
/// <param name="Erase">Ranges of groups no session names that may still hold bytes: erased after the commit that records them.</param>
internal sealed record PackImage(long Length, long Live, (long Offset, long Length)[] Erase)
{
    private const byte Version = 1;

    public void Write(IBufferWriter<byte> output)
    {
        var w = new PayloadWriter(output);
        w.WriteByte(Version);
        w.WriteInt64(Length);
        w.WriteInt64(Live);
        w.WriteInt32(Erase.Length);
        foreach (var (offset, length) in Erase)
        {
            w.WriteInt64(offset);
            w.WriteInt64(length);
        }
    }

    public static PackImage Read(uint pack, ReadOnlySpan<byte> value)
    {
        var r = new PayloadReader(value);
        if (r.ReadByte() != Version)
        {
            throw new InvalidDataException($"Index pack record {pack} has an unknown version.");
        }
        var length = r.ReadInt64();
        var live = r.ReadInt64();
        var count = r.ReadInt32();
        if (length < FileHeader.Size || live < 0 || live > length || count < 0 || count > r.Remaining / 16)
        {
            throw new InvalidDataException($"Index pack record {pack} is out of range.");
        }
        var erase = new (long, long)[count];
        for (var i = 0; i < count; i++)
        {
            erase[i] = (r.ReadInt64(), r.ReadInt64());
            if (erase[i].Item1 < FileHeader.Size || erase[i].Item2 <= 0 || erase[i].Item1 + erase[i].Item2 > length)
            {
                throw new InvalidDataException($"Index pack record {pack} erases outside the pack.");
            }
        }
        if (r.Remaining != 0)
        {
            throw new InvalidDataException($"Index pack record {pack} has trailing bytes.");
        }
        return new PackImage(length, live, erase);
    }
}

/// <summary>
/// The one owner of the packs' state: each pack's length, the bytes its sessions still name, and the ranges owed
/// an erasure. Sessions joining and leaving packs move it; a checkpoint captures what changed
/// (<see cref="Capture"/>), commits it, erases and deletes what the commit released, and reports back
/// (<see cref="Erased"/>). Small: one item per pack, never one per session.
/// </summary>
internal sealed class PackTable
{
    private sealed class Pack(long length)
    {
        public long Length { get; } = length;
        public long Live { get; set; }
        public List<(long Offset, long Length)> Erase { get; } = [];
        public bool Changed { get; set; }

        // Being filled by a compaction: never taken for dead before its sessions are switched in.
        public bool Filling { get; set; }
    }

    private readonly object _lock = new();
    private readonly SortedDictionary<uint, Pack> _packs = [];
    private readonly Dictionary<uint, Pack> _deleted = [];
    private uint _next = 1;

    /// <summary>Forgets every pack (an index rebuilt from the files).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _packs.Clear();
            _deleted.Clear();
        }
    }

    /// <summary>A pack as the index file holds it (an open).</summary>
    public void Load(uint number, PackImage image)
    {
        lock (_lock)
        {
            // Erasures a crash kept from finishing are done again after the next commit.
            var pack = new Pack(image.Length) { Live = image.Live, Changed = image.Erase.Length > 0 };
            pack.Erase.AddRange(image.Erase);
            _packs[number] = pack;
            _next = Math.Max(_next, number + 1);
        }
    }

    /// <summary>Takes note of a pack number seen in the files, so no new pack takes it again.</summary>
    public void Seen(uint number)
    {
        lock (_lock)
        {
            _next = Math.Max(_next, number + 1);
        }
    }

    /// <summary>A new pack number.</summary>
    public uint Reserve()
    {
        lock (_lock)
        {
            return _next++;
        }
    }

    /// <summary>A pack written whole and in place, before its sessions switch to it (<see cref="Filled"/> after).</summary>
    public void Register(uint number, long length, bool filling)
    {
        lock (_lock)
        {
            _packs[number] = new Pack(length) { Changed = true, Filling = filling };
            _next = Math.Max(_next, number + 1);
        }
    }

    /// <summary>The sessions of a new pack are switched in (or gave up): it may now be found dead.</summary>
    public void Filled(uint number)
    {
        lock (_lock)
        {
            if (_packs.TryGetValue(number, out var p))
            {
                p.Filling = false;
            }
        }
    }

    /// <summary>A session now names <paramref name="group"/>.</summary>
    public void Join(PackGroup group) => Move(group.Pack, group.Length, null);

    /// <summary>No session names <paramref name="group"/> any more (its session left or was deleted): owed an erasure.</summary>
    public void Leave(PackGroup group) => Move(group.Pack, -group.Length, (group.Offset, group.Length));

    /// <summary>A group written to a new pack that no session took (it changed meanwhile): owed an erasure.</summary>
    public void Abandon(uint number, long offset, long length) => Move(number, 0, (offset, length));

    private void Move(uint number, long live, (long Offset, long Length)? erase)
    {
        lock (_lock)
        {
            if (_packs.TryGetValue(number, out var p))
            {
                p.Live = Math.Max(0, p.Live + live);
                if (erase is { } range)
                {
                    p.Erase.Add(range);
                }
                p.Changed = true;
            }
        }
    }

    /// <summary>True when the index holds pack <paramref name="number"/>.</summary>
    public bool Holds(uint number)
    {
        lock (_lock)
        {
            return _packs.ContainsKey(number);
        }
    }

    /// <summary>Every pack the index holds, with the ranges it owes an erasure.</summary>
    public List<(uint Number, long Length, long Live, (long Offset, long Length)[] Erase)> List()
    {
        lock (_lock)
        {
            var list = new List<(uint, long, long, (long, long)[])>(_packs.Count);
            foreach (var (n, p) in _packs)
            {
                list.Add((n, p.Length, p.Live, [.. p.Erase]));
            }
            return list;
        }
    }

    /// <summary>Packs and their bytes, for the store's statistics.</summary>
    public (int Count, long Bytes, long Live) Totals()
    {
        lock (_lock)
        {
            long bytes = 0, live = 0;
            foreach (var p in _packs.Values)
            {
                bytes += p.Length;
                live += p.Live;
            }
            return (_packs.Count, bytes, live);
        }
    }

    /// <summary>
    /// What the next commit saves (a pack's new image, or null: its key goes, the pack holds nothing live) and
    /// the erasures and deletions it makes due. Taken while no write is in flight.
    /// </summary>
    public PackDelta Capture(bool all = false)
    {
        lock (_lock)
        {
            if (all)
            {
                foreach (var p in _packs.Values)
                {
                    p.Changed = true;
                }
            }
            var saves = new List<(uint, PackImage?)>();
            var erase = new List<(uint, long, long)>();
            var delete = new List<uint>();
            foreach (var (n, p) in _packs)
            {
                if (!p.Changed)
                {
                    continue;
                }
                p.Changed = false;
                if (p.Live == 0 && !p.Filling)
                {
                    saves.Add((n, null));
                    delete.Add(n);
                    continue;
                }
                saves.Add((n, new PackImage(p.Length, p.Live, [.. p.Erase])));
                foreach (var (offset, length) in p.Erase)
                {
                    erase.Add((n, offset, length));
                }
            }
            foreach (var n in delete)
            {
                _packs.Remove(n, out var p);
                _deleted[n] = p!;
            }
            return new PackDelta(saves, erase, delete);
        }
    }

    /// <summary>A capture that did not commit: its changes are owed again by the next one.</summary>
    public void Uncommitted(PackDelta delta)
    {
        lock (_lock)
        {
            foreach (var (n, image) in delta.Saves)
            {
                if (_packs.TryGetValue(n, out var p))
                {
                    p.Changed = true;
                }
                else if (image is null && _deleted.Remove(n, out var gone))
                {
                    gone.Changed = true;
                    _packs[n] = gone;
                }
            }
        }
    }

    /// <summary>After the commit: the captured erasures are done and durable; the next commit drops them from the keys.</summary>
    public void Erased(PackDelta delta)
    {
        lock (_lock)
        {
            foreach (var (n, offset, length) in delta.Erase)
            {
                if (_packs.TryGetValue(n, out var p) && p.Erase.Remove((offset, length)))
                {
                    p.Changed = true;
                }
            }
            foreach (var n in delta.Delete)
            {
                _deleted.Remove(n);
            }
        }
    }
}

/// <summary>The packs' part of one checkpoint: keys to save (null: delete), erasures and pack deletions due once it commits.</summary>
internal sealed record PackDelta(List<(uint Number, PackImage? Image)> Saves, List<(uint Pack, long Offset, long Length)> Erase, List<uint> Delete)
{
    public static readonly PackDelta Empty = new([], [], []);
}
