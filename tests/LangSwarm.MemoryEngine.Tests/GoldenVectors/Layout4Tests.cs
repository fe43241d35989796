using System.Buffers;
using System.Buffers.Binary;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Log;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests.GoldenVectors;

/// <summary>
/// Index files of layout 4 (FORMAT.md §6.3), as builds before layout 5 wrote them: the two index vectors of that
/// layout (<c>index-layout4.btree</c>, <c>index-packed-layout4.btree</c>, kept byte for byte) hold the same index
/// as the current vectors with session records of version 1 and 2 and the time in the role keys, open as
/// stores, and become layout 5 with their next commit.
/// </summary>
public sealed class Layout4Tests
{
    public static TheoryData<string, string> Pairs => new()
    {
        { "index-layout4.btree", GoldenVectorSet.IndexFile },
        { "index-packed-layout4.btree", GoldenVectorSet.PackedIndexFile },
    };

    private static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "GoldenVectors", name));

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Layout4Vector_HoldsTheSameIndex_WithFixedWidthSessionRecords(string old, string current)
    {
        var before = Entries(Read(old));
        var after = Entries(Read(current));
        Assert.Equal(before.Select(e => Convert.ToHexString(e.Key)), after.Select(e => Convert.ToHexString(e.Key)));
        for (var i = 0; i < before.Count; i++)
        {
            var (key, value) = before[i];
            var now = after[i].Value;
            switch (key[0])
            {
                case IndexKeys.Session:
                    Assert.InRange(value[0], 1, 2);
                    Assert.Equal(3, now[0]);
                    var a = SessionRecord.Read(IndexKeys.NumberOf(key), value, null!, out var messages, out var summaries);
                    var b = SessionRecord.Read(IndexKeys.NumberOf(key), now, null!, out var messagesNow, out var summariesNow);
                    Assert.Equal((messages, summaries), (messagesNow, summariesNow));
                    Assert.Equal((a.LastLsn, a.DeadBytes, a.LastStateLength, a.Cold, a.Pack), (b.LastLsn, b.DeadBytes, b.LastStateLength, b.Cold, b.Pack));
                    Assert.Equal(a.Segments, b.Segments);
                    Assert.Equal(State(a.State), State(b.State));
                    var (oa, ob) = (SessionRecord.ReadOutline(a.Number, value), SessionRecord.ReadOutline(b.Number, now));
                    Assert.Equal(oa.Segments, ob.Segments);
                    Assert.Equal(oa with { Segments = Array.Empty<SegmentExtent>() }, ob with { Segments = Array.Empty<SegmentExtent>() });
                    // The writer of the old form still writes the committed bytes, and the new record is shorter.
                    var fixedWidth = new ArrayBufferWriter<byte>();
                    SessionRecord.WriteFixedWidth(fixedWidth, b, messagesNow, summariesNow);
                    Assert.Equal(value, fixedWidth.WrittenSpan.ToArray());
                    Assert.True(now.Length < value.Length - 40, $"version 3 record of {now.Length} bytes for {value.Length}");
                    break;
                case IndexKeys.Role:
                    // Layout 4 kept the message's time in the role key; layout 5 reads it from the message entry.
                    var entry = after.Single(e => e.Key[0] == IndexKeys.Message && IndexKeys.SequenceOf(e.Key) == IndexKeys.SequenceOfRole(key));
                    Assert.Equal(SessionRecord.DecodeMessage(IndexKeys.SequenceOf(entry.Key), entry.Value).TimeTicks, BinaryPrimitives.ReadInt64LittleEndian(value));
                    Assert.Empty(now);
                    break;
                case IndexKeys.Layout:
                    Assert.Equal(4u, BinaryPrimitives.ReadUInt32BigEndian(value));
                    Assert.Equal(5u, BinaryPrimitives.ReadUInt32BigEndian(now));
                    break;
                default:
                    Assert.Equal(value, now);
                    break;
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Layout4Store_Opens_AndBecomesLayout5WithItsNextCommit(bool packed)
    {
        using var dir = new TempStore();
        Directory.CreateDirectory(Path.Combine(dir.Path, "seg"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "pack"));
        File.WriteAllBytes(Path.Combine(dir.Path, IndexFile.FileName), Read(packed ? "index-packed-layout4.btree" : "index-layout4.btree"));
        if (packed)
        {
            File.WriteAllBytes(Path.Combine(dir.Path, "pack", "00000001.pack"), Read(GoldenVectorSet.PackFile));
        }
        else
        {
            File.WriteAllBytes(Path.Combine(dir.Path, "seg", "000000000000002a-00000000.seg"), Read(GoldenVectorSet.SegmentFile));
        }

        await using (var backend = new EngineBackend(dir.Path))
        {
            await backend.ConnectAsync();
            Assert.Empty(backend.Engine.Damage);
            var a = (await backend.GetSessionAsync("golden-a"))!;
            // Before anything loads the session's entries, a role filter reads the role keys, with their times.
            Assert.Equal([5L], (await a.GetMessagesAsync(1, null, [MessageRole.Assistant])).Select(m => m.Sequence));
            Assert.Empty(await a.GetMessagesAsync(null, DateTimeOffset.MaxValue, [MessageRole.Assistant]));
            Assert.Equal([4L, 5L], (await a.GetMessagesAsync()).Select(m => m.Sequence));
            Assert.Equal("sum-1", Assert.Single(await a.GetSummariesAsync()).SummaryId);
            Assert.Equal(0.5, a.Metadata.EvictionLowWater);
            Assert.True((await backend.VerifyAsync()).Ok);
            await a.AddMessageAsync(new Message(MessageRole.User, "after the upgrade"));
        }

        using (var tree = BPlusTree.Open(new Device.PhysicalFileSystem(dir.Path), IndexFile.FileName))
        {
            Assert.True(tree.TryGet(IndexKeys.LayoutKey, out var layout));
            Assert.Equal(IndexKeys.CurrentLayout, BinaryPrimitives.ReadUInt32BigEndian(layout));
            Assert.True(tree.TryGet(IndexKeys.ForSession(GoldenVectorSet.SessionA), out var record));
            Assert.Equal(3, record[0]);
        }

        await using (var backend = new EngineBackend(dir.Path))
        {
            await backend.ConnectAsync();
            var a = (await backend.GetSessionAsync("golden-a"))!;
            Assert.Equal([4L, 5L], (await a.GetMessagesAsync(2, new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero), [MessageRole.Assistant])).Select(m => m.Sequence));
            Assert.Equal(["m4", "m5", "after the upgrade"], (await a.GetMessagesAsync()).Select(m => m.Sequence == 6 ? m.Content : $"m{m.Sequence}"));
            Assert.True((await backend.VerifyAsync()).Ok);
        }
    }

    private static byte[] State(SessionState s)
    {
        var w = new ArrayBufferWriter<byte>();
        StateCodec.Write(w, s);
        return w.WrittenSpan.ToArray();
    }

    private static List<(byte[] Key, byte[] Value)> Entries(byte[] file)
    {
        var page = file.AsSpan(2 * BTreePageHeader.PageSize, BTreePageHeader.PageSize);
        Assert.Null(BTreePageHeader.TryRead(page, 2, out var h));
        var leaf = Node.Decode(page, h, 3);
        return [.. leaf.Keys.Select((k, i) => (k, leaf.Values[i].Inline!))];
    }
}
