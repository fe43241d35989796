using System.Globalization;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// Pack files (<c>pack/{pack:x8}.pack</c>, FORMAT.md §5.3): the compacted records of many small sessions in one
/// file, written whole by a compaction (<see cref="PackBuilder"/>) and never appended to afterwards. Once in
/// place a pack only changes by erasure: the byte range of a session that left it (deleted, or compacted
/// elsewhere) is overwritten with zeros, so that nothing a user forgot stays readable, and a pack with no live
/// group is deleted whole. Handles are kept open while reads use them, a bounded number at a time.
/// </summary>
internal sealed class PackFiles(IFileSystem fs, int capacity = 64, uint keyId = 0) : IDisposable
{
    /// <summary>Directory of the packs.</summary>
    public const string Directory = "pack";

    /// <summary>Suffix of a pack being written; never read, deleted at open.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// The high bit of a location's segment number marks a pack: in memory a message entry's segment is either
    /// the session's own segment number (below 2³¹) or this bit with a pack number.
    /// </summary>
    public const uint PackBit = 0x8000_0000;

    private readonly object _lock = new();
    private readonly Dictionary<uint, IStorageFile> _open = [];
    private readonly HashSet<uint> _dirty = [];

    /// <summary>True when a location names a pack.</summary>
    public static bool IsPack(uint location) => (location & PackBit) != 0;

    /// <summary>The location of records in pack <paramref name="pack"/>.</summary>
    public static uint Location(uint pack) => pack | PackBit;

    /// <summary>The pack number of a pack location.</summary>
    public static uint NumberOf(uint location) => location & ~PackBit;

    public static string NameFor(uint pack) => $"{pack:x8}.pack";

    public static string PathFor(uint pack) => $"{Directory}/{NameFor(pack)}";

    /// <summary>Parses a pack file name; false for anything else (a <c>.tmp</c> file included).</summary>
    public static bool TryParseName(string name, out uint pack)
    {
        pack = 0;
        return name.Length == 8 + 5 && name.EndsWith(".pack", StringComparison.Ordinal)
            && uint.TryParse(name.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out pack)
            && pack is > 0 and < PackBit;
    }

    /// <summary>True for the name of a pack being written when a crash stopped it.</summary>
    public static bool IsTempName(string name) =>
        name.EndsWith(TempSuffix, StringComparison.Ordinal) && TryParseName(name[..^TempSuffix.Length], out _);

    public bool Exists(uint pack) => fs.FileExists(PathFor(pack));

    /// <summary>Starts writing pack <paramref name="pack"/> (under its temporary name).</summary>
    public PackBuilder Begin(uint pack)
    {
        fs.CreateDirectory(Directory);
        return new PackBuilder(fs, pack, keyId);
    }

    public int Read(uint pack, long offset, Span<byte> buffer) => Handle(pack).Read(offset, buffer);

    public long Length(uint pack) => Handle(pack).Length;

    /// <summary>
    /// Overwrites [<paramref name="offset"/>, +<paramref name="length"/>) with zeros; durable at the next
    /// <see cref="SyncDirty"/>. Zeros never verify as a record, so a scan of the pack skips the range.
    /// </summary>
    public void Erase(uint pack, long offset, long length)
    {
        var file = Handle(pack);
        var zeros = new byte[(int)Math.Min(length, 64 * 1024)];
        for (long done = 0; done < length;)
        {
            var n = (int)Math.Min(zeros.Length, length - done);
            file.Write(offset + done, zeros.AsSpan(0, n));
            done += n;
        }
        lock (_lock)
        {
            _dirty.Add(pack);
        }
    }

    /// <summary>fsyncs every pack erased since the last call.</summary>
    public void SyncDirty()
    {
        uint[] dirty;
        lock (_lock)
        {
            dirty = [.. _dirty];
            _dirty.Clear();
        }
        try
        {
            foreach (var pack in dirty)
            {
                if (fs.FileExists(PathFor(pack)))
                {
                    Handle(pack).Flush();
                }
            }
        }
        catch
        {
            lock (_lock)
            {
                _dirty.UnionWith(dirty);
            }
            throw;
        }
    }

    /// <summary>Deletes a pack (closing its handle); durable with <see cref="SyncDirectory"/>.</summary>
    public void Delete(uint pack)
    {
        lock (_lock)
        {
            if (_open.Remove(pack, out var file))
            {
                file.Dispose();
            }
            _dirty.Remove(pack);
        }
        fs.Delete(PathFor(pack));
    }

    /// <summary>Deletes a pack a crash left half-written (its temporary name).</summary>
    public void DeleteTemp(string name) => fs.Delete($"{Directory}/{name}");

    public void SyncDirectory()
    {
        fs.CreateDirectory(Directory);
        fs.SyncDirectory(Directory);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var file in _open.Values)
            {
                file.Dispose();
            }
            _open.Clear();
        }
    }

    private IStorageFile Handle(uint pack)
    {
        lock (_lock)
        {
            if (_open.TryGetValue(pack, out var file))
            {
                return file;
            }
            if (_open.Count >= capacity)
            {
                // Packs are read a session at a time; dropping every handle now and then costs a few opens.
                foreach (var f in _open.Values)
                {
                    f.Dispose();
                }
                _open.Clear();
            }
            file = fs.Open(PathFor(pack), create: false);
            _open[pack] = file;
            return file;
        }
    }
}

/// <summary>
/// Writes one pack: its header and then records back to back under the pack's temporary name; <see cref="Finish"/>
/// makes it durable and renames it into place (FORMAT.md §10), <see cref="Dispose"/> without it deletes it.
/// </summary>
internal sealed class PackBuilder : IDisposable
{
    private const int BufferBytes = 256 * 1024;

    private readonly IFileSystem _fs;
    private readonly IStorageFile _file;
    private readonly string _temp;
    private readonly byte[] _buffer = new byte[BufferBytes];
    private int _buffered;
    private long _written;
    private bool _finished;

    public PackBuilder(IFileSystem fs, uint pack, uint keyId)
    {
        _fs = fs;
        Pack = pack;
        _temp = PackFiles.PathFor(pack) + PackFiles.TempSuffix;
        _file = fs.Open(_temp, create: true);
        _file.SetLength(0);
        new FileHeader(FileKind.Pack, FileHeader.VersionFor(keyId), pack, 0, keyId).WriteTo(_buffer);
        _buffered = FileHeader.Size;
    }

    public uint Pack { get; }

    /// <summary>Bytes in the pack so far (the offset of the next record).</summary>
    public long Length => _written + _buffered;

    /// <summary>Appends a record; returns its offset in the pack.</summary>
    public long Append(ReadOnlySpan<byte> record)
    {
        var at = Length;
        if (_buffered + record.Length > _buffer.Length)
        {
            WriteBuffered();
        }
        if (record.Length > _buffer.Length)
        {
            _file.Write(_written, record);
            _written += record.Length;
            return at;
        }
        record.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += record.Length;
        return at;
    }

    /// <summary>fsyncs the pack, renames it into place and fsyncs <c>pack/</c>: from here on it exists whole.</summary>
    public void Finish()
    {
        WriteBuffered();
        _file.Flush();
        _file.Dispose();
        _fs.Rename(_temp, PackFiles.PathFor(Pack));
        _fs.SyncDirectory(PackFiles.Directory);
        _finished = true;
    }

    public void Dispose()
    {
        if (_finished)
        {
            return;
        }
        _finished = true;
        _file.Dispose();
        _fs.Delete(_temp);
    }

    private void WriteBuffered()
    {
        if (_buffered == 0)
        {
            return;
        }
        _file.Write(_written, _buffer.AsSpan(0, _buffered));
        _written += _buffered;
        _buffered = 0;
    }
}
