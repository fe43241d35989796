using Xunit;
using LangSwarm.MemoryEngine.Device;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>The real file's sync (fdatasync on Linux): what it keeps, and how it fails.</summary>
public sealed class PhysicalFileTests
{
    [Fact]
    public void Flush_AfterAppends_KeepsDataAndLength()
    {
        using var dir = new TempStore();
        var fs = new PhysicalFileSystem(dir.Path);
        fs.CreateDirectory("wal");
        var data = new byte[10_000];
        new Random(7).NextBytes(data);
        using (var file = fs.Open("wal/a.log", create: true))
        {
            file.Write(0, data.AsSpan(0, 4_000));
            file.Flush();
            file.Write(4_000, data.AsSpan(4_000));
            file.Flush();
            file.Flush(); // nothing new: still fine
        }
        fs.SyncDirectory("wal");
        Assert.Equal(data.Length, fs.FileLength("wal/a.log"));
        using var again = fs.Open("wal/a.log", create: false);
        var back = new byte[data.Length];
        Assert.Equal(data.Length, again.Read(0, back));
        Assert.Equal(data, back);
    }

    [Fact]
    public void Flush_OfAClosedFile_ThrowsObjectDisposed()
    {
        using var dir = new TempStore();
        var fs = new PhysicalFileSystem(dir.Path);
        fs.CreateDirectory("seg");
        var file = fs.Open("seg/x.seg", create: true);
        file.Write(0, [1, 2, 3]);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(file.Flush);
    }
}
