namespace LangSwarm.MemoryEngine.Testing;

/// <summary>One file of a <see cref="FaultInjectingFileSystem"/>: what is durable, and the writes since.</summary>
internal sealed class FaultFileNode
{
    private byte[] _current = [];
    private byte[] _durableImage = [];
    private readonly List<(long Offset, byte[]? Data, long NewLength)> _pending = [];

    public int Length { get; private set; }

    public int Read(long offset, Span<byte> buffer)
    {
        if (offset >= Length)
        {
            return 0;
        }
        var n = (int)Math.Min(buffer.Length, Length - offset);
        _current.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        var end = (int)(offset + data.Length);
        Grow(end);
        data.CopyTo(_current.AsSpan((int)offset));
        Length = Math.Max(Length, end);
        _pending.Add((offset, data.ToArray(), -1));
    }

    public void SetLength(long length)
    {
        Grow((int)length);
        if (length > Length)
        {
            Array.Clear(_current, Length, (int)length - Length);
        }
        Length = (int)length;
        _pending.Add((0, null, length));
    }

    public void Flush()
    {
        _durableImage = _current.AsSpan(0, Length).ToArray();
        _pending.Clear();
    }

    public byte[] CurrentImage() => _current.AsSpan(0, Length).ToArray();

    public byte[] ImageAfterCrash(Random random, bool reorder)
    {
        var image = new List<byte>(_durableImage);
        if (_pending.Count == 0)
        {
            return [.. image];
        }
        // Keep a prefix of the unsynced writes (or a random subset), the last kept one possibly torn.
        var keep = random.Next(_pending.Count + 1);
        var chosen = reorder
            ? _pending.Where(_ => random.Next(2) == 0).ToList()
            : _pending.Take(keep).ToList();
        for (var i = 0; i < chosen.Count; i++)
        {
            var (offset, data, newLength) = chosen[i];
            if (data is null)
            {
                Resize(image, (int)newLength);
                continue;
            }
            var len = data.Length;
            if (i == chosen.Count - 1 && random.Next(3) == 0)
            {
                len = random.Next(len + 1); // torn write
            }
            var end = (int)offset + len;
            if (image.Count < end)
            {
                Resize(image, end);
            }
            for (var b = 0; b < len; b++)
            {
                image[(int)offset + b] = data[b];
            }
        }
        return [.. image];
    }

    public void Reset(byte[] image)
    {
        _current = image;
        _durableImage = image.ToArray();
        Length = image.Length;
        _pending.Clear();
    }

    private void Grow(int size)
    {
        if (_current.Length < size)
        {
            Array.Resize(ref _current, Math.Max(size, _current.Length * 2));
        }
    }

    private static void Resize(List<byte> image, int length)
    {
        if (image.Count > length)
        {
            image.RemoveRange(length, image.Count - length);
        }
        else
        {
            image.AddRange(new byte[length - image.Count]);
        }
    }
}
