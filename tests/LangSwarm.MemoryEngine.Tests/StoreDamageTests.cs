using System.Buffers;
using System.Buffers.Binary;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Regressions of the ways a store was lost, corrupted or locked (issue 10): a crash inside a vacuum's pause,
/// delete and re-create of one id, damaged commit logs and meta pages, missing segment files, records that do
/// not decode, and a full disk at close.
/// </summary>
public sealed class StoreDamageTests
{
    private static EngineOptions Options(FaultInjectingFileSystem fs, TimeSpan? vacuumPause, int handles) => new()
    {
        Path = "store",
        FileSystem = fs,
        Durability = DurabilityMode.Strict,
        VacuumPause = vacuumPause ?? TimeSpan.Zero,
        OpenSegmentHandles = handles,
    };

    private static async Task<EngineBackend> OpenAsync(FaultInjectingFileSystem fs, TimeSpan? vacuumPause = null, int handles = 256)
    {
        var b = new EngineBackend(Options(fs, vacuumPause, handles), new CrashHarness.FixedTokenCounter());
        await b.ConnectAsync();
        return b;
    }

    /// <summary>Power loss (seed 0 and up: what reached the disk unsynced survives at random), or SIGKILL (seed -1).</summary>
    private static void Crash(FaultInjectingFileSystem fs, EngineBackend backend, int seed = 1)
    {
        fs.Kill();
        backend.Abandon();
        if (seed < 0)
        {
            fs.ProcessDied();
        }
        else
        {
            fs.Crash(new Random(seed));
        }
    }

    private static Message Msg(int i) => new(MessageRole.User, $"message {i} " + new string('x', i % 7 * 30)) { TokenCount = 3 };

    private static SessionMetadata Manual(string id) => new(id, "u") { SummaryStrategy = SummaryStrategy.Manual };

    private static async Task<List<string>> ContentsAsync(EngineBackend b, string id) =>
        [.. (await (await b.GetSessionAsync(id))!.GetMessagesAsync()).Select(m => m.Content)];

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    public async Task CrashInsideTheVacuumsPause_KeepsOneSegmentSet_NoDuplicates_CountersHold(int seed)
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs, TimeSpan.FromSeconds(30));
        var s = await b.CreateSessionAsync(Manual("x"));
        for (var i = 0; i < 10; i++)
        {
            await s.AddMessageAsync(Msg(i));
        }
        for (var i = 0; i < 4; i++)
        {
            await s.UpdateMetadataAsync(new Dictionary<string, object?> { ["k"] = i }); // dead state records
        }
        await b.CheckpointAsync();
        using var stop = new CancellationTokenSource();
        var vacuum = b.VacuumAsync(0.0, stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!Swapped() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
        Assert.True(Swapped(), "the vacuum never swapped the session");
        for (var i = 10; i < 15; i++)
        {
            await s.AddMessageAsync(Msg(i));
        }
        Assert.Equal(15, (await s.GetMessagesAsync()).Count);
        fs.Kill();
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => vacuum); // its commit meets the dead device
        b.Abandon();
        if (seed < 0)
        {
            fs.ProcessDied();
        }
        else
        {
            fs.Crash(new Random(seed));
        }

        var r = await OpenAsync(fs);
        var expected = Enumerable.Range(0, 15).Select(i => Msg(i).Content).ToList();
        Assert.Equal(expected, await ContentsAsync(r, "x"));
        await r.VacuumAsync(0.0);
        Assert.Equal(expected, await ContentsAsync(r, "x"));
        var verify = await r.VerifyAsync();
        Assert.True(verify.Ok, string.Join("; ", verify.Problems));
        var x = (await r.GetSessionAsync("x"))!;
        await x.UpdateMetadataAsync(new Dictionary<string, object?> { ["max_messages"] = 5, ["eviction_low_water"] = 1.0 });
        await x.AddMessageAsync(Msg(15));
        Assert.Equal(5, (await x.GetMessagesAsync()).Count);
        Assert.True(r.Engine.Index.TryGet("x", out var live) && live.State.LiveMessages == 5, "live counter drifted");
        await AssertVerifiedAsync(r);
        Assert.Empty(r.Engine.Damage);
        await r.DisposeAsync();

        bool Swapped() => b.Engine.Index.TryGet("x", out var e) && e.Segments[0].Segment >= 1024;
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    [InlineData(true, -1)]
    [InlineData(false, 0)]
    [InlineData(false, 1)]
    [InlineData(false, -1)]
    public async Task DeleteAndRecreateOfOneId_ThenCrash_IsNoDamage(bool checkpoint, int seed)
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var s = await b.CreateSessionAsync(Manual("x"));
        await s.AddMessageAsync(Msg(0));
        if (checkpoint)
        {
            await b.CheckpointAsync();
        }
        Assert.True(await b.DeleteSessionAsync("x"));
        var again = await b.CreateSessionAsync(Manual("x"));
        await again.AddMessageAsync(Msg(1));
        await again.AddMessageAsync(Msg(2));
        Assert.Equal(2, (await again.GetMessagesAsync()).Count);
        Crash(fs, b, seed);

        var r = await OpenAsync(fs);
        Assert.True(r.Engine.Damage.Count == 0, string.Join("; ", r.Engine.Damage));
        Assert.Equal([Msg(1).Content, Msg(2).Content], await ContentsAsync(r, "x"));
        await AssertVerifiedAsync(r);
        await r.DisposeAsync();
        var clean = await OpenAsync(fs);
        Assert.Empty(clean.Engine.Damage);
        Assert.Equal([Msg(1).Content, Msg(2).Content], await ContentsAsync(clean, "x"));
        await AssertVerifiedAsync(clean);
        Assert.Equal(HealthStatus.Healthy, (await clean.HealthCheckAsync()).Status);
        await clean.DisposeAsync();
    }

    [Theory]
    [InlineData("header")]
    [InlineData("record")]
    public async Task BitFlipInTheCommitLog_IsReported_LaterRecordsRecovered_LogKeptAside(string where)
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var s = await b.CreateSessionAsync(Manual("x"));
        for (var i = 0; i < 20; i++)
        {
            await s.AddMessageAsync(Msg(i));
        }
        // Nothing but the log holds the adds: the segments' writes were never synced, and a crash drops them.
        Crash(fs, b);
        var log = fs.ListFiles(CommitLog.Directory).Single(f => f.Name.EndsWith(".log", StringComparison.Ordinal)).Name;
        var path = $"{CommitLog.Directory}/{log}";
        var bytes = ReadAll(fs, path);
        var records = RecordOffsets(bytes);
        Assert.True(records.Count >= 21);
        var flip = where == "header" ? 20 : (int)records[10] + RecordHeader.Size + 3;
        bytes[flip] ^= 0x10;
        WriteAll(fs, path, bytes);

        var r = await OpenAsync(fs);
        var got = await ContentsAsync(r, "x");
        var lost = where == "header" ? 0 : 1;
        Assert.True(got.Count >= 20 - lost, $"{got.Count} of 20 acknowledged adds survived");
        Assert.Equal(got, Enumerable.Range(0, 20).Select(i => Msg(i).Content).Where(got.Contains));
        Assert.Contains(r.Engine.Damage, d => d.File.StartsWith(CommitLog.Directory, StringComparison.Ordinal));
        Assert.Equal(HealthStatus.Degraded, (await r.HealthCheckAsync()).Status);
        Assert.Contains(fs.ListFiles(CommitLog.Directory), f => f.Name == log + ".damaged");
        await AssertVerifiedAsync(r);
        await r.DisposeAsync();
        // The log kept aside is neither replayed again nor reported as foreign.
        var again = await OpenAsync(fs);
        Assert.Equal(got, await ContentsAsync(again, "x"));
        Assert.Empty(again.Recovery!.ForeignFiles);
        await again.DisposeAsync();
    }

    [Fact]
    public async Task DamagedNewerMetaPage_AfterACleanClose_IsReported_AndTheSegmentsStillGiveEverything()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var s = await b.CreateSessionAsync(Manual("x"));
        for (var i = 0; i < 10; i++)
        {
            await s.AddMessageAsync(Msg(i));
        }
        await b.CheckpointAsync();
        for (var i = 10; i < 20; i++)
        {
            await s.AddMessageAsync(Msg(i));
        }
        await b.DisposeAsync();
        DamageNewerMetaPage(fs);

        var r = await OpenAsync(fs);
        var expected = Enumerable.Range(0, 20).Select(i => Msg(i).Content).ToList();
        Assert.Equal(expected, await ContentsAsync(r, "x"));
        Assert.Contains(r.Engine.Damage, d => d.File == "index.btree");
        await (await r.GetSessionAsync("x"))!.AddMessageAsync(Msg(20));
        await r.DisposeAsync();
        var again = await OpenAsync(fs);
        Assert.Equal([.. expected, Msg(20).Content], await ContentsAsync(again, "x"));
        await AssertVerifiedAsync(again);
        await again.DisposeAsync();
    }

    [Fact]
    public async Task MissingSegmentFile_InACleanlyClosedStore_IsNamedAtUse_OtherSessionsKeepWriting_NextOpenRepairs()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var a = await b.CreateSessionAsync(Manual("a"));
        var c = await b.CreateSessionAsync(Manual("c"));
        await a.AddMessageAsync(Msg(1));
        await c.AddMessageAsync(Msg(2));
        var number = b.Engine.Index.TryGet("a", out var entry) ? entry.Number : 0;
        await b.DisposeAsync();
        var segment = SegmentFiles.PathFor(number, 0);
        fs.Delete(segment);

        // A clean open trusts the checkpoint without listing the segments (its cost must not grow with the
        // store): the loss surfaces at the session's first use, as a typed error naming the file.
        var r = await OpenAsync(fs);
        var read = await Assert.ThrowsAsync<StorageCorruptionException>(() => ContentsAsync(r, "a"));
        Assert.Contains(segment, read.Message);
        await Assert.ThrowsAsync<StorageCorruptionException>(() => r.GetSessionAsync("a").ContinueWith(t => t.Result!.AddMessageAsync(Msg(3))).Unwrap());
        await (await r.GetSessionAsync("c"))!.AddMessageAsync(Msg(4));
        Assert.Equal([Msg(2).Content, Msg(4).Content], await ContentsAsync(r, "c"));
        Assert.Contains(r.Engine.Damage, d => d.File == segment);
        Assert.Equal(HealthStatus.Degraded, (await r.HealthCheckAsync()).Status);
        Assert.Null(r.Engine.Failure);
        await r.DisposeAsync();

        // That close leaves no CLEAN marker: the next open sweeps the segments (after the open, in the
        // background, so the open's cost stays independent of the store's size) and repairs the session.
        var again = await OpenAsync(fs);
        await again.Engine.OpenWorkCompletion;
        Assert.Contains(again.Engine.Damage, d => d.File == segment);
        Assert.Equal([Msg(2).Content, Msg(4).Content], await ContentsAsync(again, "c"));
        await AssertRepairedEmptyAndWritableAsync(again, "a", 3);
        var third = await OpenAsync(fs);
        Assert.Empty(third.Engine.Damage);
        Assert.Equal([Msg(3).Content], await ContentsAsync(third, "a"));
        await third.DisposeAsync();
    }

    [Fact]
    public async Task MissingSegmentFile_WhileOpen_IsATypedErrorNamingIt_NothingWritten_OthersUnaffected()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs, handles: 1); // c's writes close a's file handle
        var a = await b.CreateSessionAsync(Manual("a"));
        var c = await b.CreateSessionAsync(Manual("c"));
        await a.AddMessageAsync(Msg(1));
        await c.AddMessageAsync(Msg(2));
        await b.CheckpointAsync();
        b.Engine.Index.TryGet("a", out var entry);
        var segment = SegmentFiles.PathFor(entry.Number, 0);
        fs.Delete(segment);

        var read = await Assert.ThrowsAsync<StorageCorruptionException>(() => ContentsAsync(b, "a"));
        Assert.Contains(segment, read.Message);
        var write = await Assert.ThrowsAsync<StorageCorruptionException>(() => a.AddMessageAsync(Msg(3)));
        Assert.Contains(segment, write.Message);
        await c.AddMessageAsync(Msg(4));
        Assert.Equal([Msg(2).Content, Msg(4).Content], await ContentsAsync(b, "c"));
        Assert.Contains(b.Engine.Damage, d => d.File == segment);
        Assert.Null(b.Engine.Failure);
        await b.DisposeAsync();
        var again = await OpenAsync(fs);
        await AssertRepairedEmptyAndWritableAsync(again, "a", 5); // the refused add was never written
    }

    [Fact]
    public async Task RecordThatDoesNotDecode_DuringRecovery_IsDamage_AndTheStoreOpens()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var s = await b.CreateSessionAsync(Manual("x"));
        await s.AddMessageAsync(Msg(0));
        b.Engine.Index.TryGet("x", out var entry);
        var number = entry.Number;
        Crash(fs, b);
        // A state record whose checksum holds but whose payload no reader accepts (an unknown version).
        var log = fs.ListFiles(CommitLog.Directory).Single().Name;
        var path = $"{CommitLog.Directory}/{log}";
        var bytes = ReadAll(fs, path);
        var buffer = new ArrayBufferWriter<byte>();
        var now = DateTimeOffset.UtcNow.UtcTicks;
        RecordCodec.Encode(buffer, new RecordHeader(RecordType.SessionState, 0, 0, 0, number, 1000, 1, now, now, 0, 0), [99, 1, 2, 3]);
        WriteAll(fs, path, [.. bytes, .. buffer.WrittenSpan]);

        var r = await OpenAsync(fs);
        Assert.Equal([Msg(0).Content], await ContentsAsync(r, "x"));
        Assert.Contains(r.Engine.Damage, d => d.File == path);
        await (await r.GetSessionAsync("x"))!.AddMessageAsync(Msg(1));
        await r.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FullDisk_AddAndCloseSayDiskFull_CloseReleasesTheStore_ReopenWorksOnceSpaceIsBack(bool addFirst)
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var s = await b.CreateSessionAsync(Manual("x"));
        for (var i = 0; i < 5; i++)
        {
            await s.AddMessageAsync(Msg(i));
        }
        fs.CapacityBytes = fs.UsedBytes; // no room: not for the log past its preallocated chunk, nor for the close's checkpoint and flushes
        var acknowledged = 5;
        if (addFirst)
        {
            // Adds go on into the log's preallocated zeros (FORMAT.md §5.2), and fail once it must grow.
            var rnd = new Random(7); // text LZ4 cannot shrink much, so that the adds fill the chunk
            var big = string.Create(100_000, rnd, (chars, r) =>
            {
                for (var c = 0; c < chars.Length; c++)
                {
                    chars[c] = (char)('a' + r.Next(26));
                }
            });
            StorageFailureException? add = null;
            for (var i = 0; i < 40 && add is null; i++)
            {
                try
                {
                    await s.AddMessageAsync(new Message(MessageRole.User, $"{i} {big}") { TokenCount = 1 });
                    acknowledged++;
                }
                catch (StorageFailureException ex)
                {
                    add = ex;
                }
            }
            Assert.NotNull(add);
            Assert.Contains("disk is full", add.Message, StringComparison.OrdinalIgnoreCase);
        }
        var close = await Assert.ThrowsAsync<StorageFailureException>(async () => await b.DisposeAsync());
        Assert.Contains("disk is full", close.Message, StringComparison.OrdinalIgnoreCase);

        fs.CapacityBytes = long.MaxValue;
        var r = await OpenAsync(fs); // in the same process: the lock was released
        var contents = await ContentsAsync(r, "x");
        Assert.Equal(Enumerable.Range(0, 5).Select(i => Msg(i).Content), contents.Take(5));
        Assert.True(contents.Count >= acknowledged, $"{contents.Count} messages after the reopen, {acknowledged} acknowledged");
        await AssertVerifiedAsync(r);
        await r.DisposeAsync();
    }

    // ---- from the review of the change: combinations of the repairs above ----------------------------------

    private static async Task<EngineBackend> OpenSmallAsync(FaultInjectingFileSystem fs)
    {
        var b = new EngineBackend(Options(fs, null, 256) with { SegmentMaxBytes = 2048 }, new CrashHarness.FixedTokenCounter());
        await b.ConnectAsync();
        return b;
    }

    private static Message Noisy(int i)
    {
        var r = new Random(i);
        return new(MessageRole.User, $"message {i} " + string.Concat(Enumerable.Range(0, 200).Select(_ => (char)('a' + r.Next(26))))) { TokenCount = 3 };
    }

    [Fact]
    public async Task RepairedMiddleSegment_ThenIndexLost_LaterSegmentsSurvive()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenSmallAsync(fs);
        var s = await b.CreateSessionAsync(Manual("x"));
        for (var i = 0; i < 30; i++)
        {
            await s.AddMessageAsync(Noisy(i));
        }
        b.Engine.Index.TryGet("x", out var e);
        var number = e.Number;
        Assert.True(e.Segments.Count >= 3);
        var lastSegment = e.Segments[^1].Segment;
        await b.DisposeAsync();
        fs.Delete(SegmentFiles.PathFor(number, 1));
        fs.Delete("CLEAN"); // a sweeping open, as after a close that met the loss
        var r = await OpenSmallAsync(fs);
        await r.Engine.OpenWorkCompletion;
        Assert.Contains(r.Engine.Damage, d => d.File == SegmentFiles.PathFor(number, 1));
        var survivors = await ContentsAsync(r, "x");
        await r.DisposeAsync();
        fs.Delete("index.btree");
        var again = await OpenSmallAsync(fs);
        Assert.True(fs.FileExists(SegmentFiles.PathFor(number, lastSegment)), "last segment was deleted");
        Assert.Equal(survivors, await ContentsAsync(again, "x"));
        await again.DisposeAsync();
    }

    [Fact]
    public async Task CrashInsideTheRepairOfAMissingSegment_NextOpenStillReportsAndDropsTheLostMessages()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var a = await b.CreateSessionAsync(Manual("a"));
        await a.AddMessageAsync(Msg(1));
        await a.AddMessageAsync(Msg(2));
        b.Engine.Index.TryGet("a", out var e);
        var number = e.Number;
        await b.DisposeAsync();
        var path = SegmentFiles.PathFor(number, 0);
        fs.Delete(path);
        // What a repairing open killed right after creating the new file leaves (its opening record still buffered).
        var header = new byte[FileHeader.Size];
        new FileHeader(FileKind.Segment, FileHeader.VersionFor(0), number, 0).WriteTo(header);
        using (var f = fs.Open(path, create: true))
        {
            f.Write(0, header);
            f.Flush();
        }
        fs.SyncDirectory(SegmentFiles.Directory);
        fs.Delete("CLEAN"); // the repairing open removed the marker before it wrote anything

        var r = await OpenAsync(fs);
        await r.Engine.OpenWorkCompletion;
        Assert.Contains(r.Engine.Damage, d => d.File == path);
        await AssertRepairedEmptyAndWritableAsync(r, "a", 3);
    }

    [Fact]
    public async Task DeleteAndRecreate_NewIncarnationRolled_ThenSigkill_IsNoDamage()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenSmallAsync(fs);
        var s = await b.CreateSessionAsync(Manual("x"));
        await s.AddMessageAsync(Noisy(0));
        await b.CheckpointAsync();
        Assert.True(await b.DeleteSessionAsync("x"));
        var again = await b.CreateSessionAsync(Manual("x"));
        await again.AddMessagesAsync([.. Enumerable.Range(1, 19).Select(Noisy)]);
        b.Engine.Index.TryGet("x", out var e);
        Assert.True(e.Segments.Count >= 2);
        Crash(fs, b, seed: -1);

        var r = await OpenSmallAsync(fs);
        Assert.True(r.Engine.Damage.Count == 0, string.Join("; ", r.Engine.Damage));
        Assert.Equal(Enumerable.Range(1, 19).Select(i => Noisy(i).Content).ToList(), await ContentsAsync(r, "x"));
        await AssertVerifiedAsync(r);
        await r.DisposeAsync();
    }

    [Fact]
    public async Task DamagedNewerMetaPage_DeletedSessionStaysDeleted()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var a = await b.CreateSessionAsync(Manual("a"));
        await a.AddMessageAsync(Msg(1));
        var c = await b.CreateSessionAsync(Manual("c"));
        await c.AddMessageAsync(Msg(2));
        await b.CheckpointAsync();
        Assert.True(await b.DeleteSessionAsync("a"));
        await b.DisposeAsync();
        DamageNewerMetaPage(fs);

        var r = await OpenAsync(fs);
        Assert.Contains(r.Engine.Damage, d => d.File == "index.btree");
        Assert.Null(await r.GetSessionAsync("a"));
        Assert.Equal([Msg(2).Content], await ContentsAsync(r, "c"));
        await AssertVerifiedAsync(r);
        await r.DisposeAsync();
    }

    [Fact]
    public async Task DamagedNewerMetaPage_AfterACommittedVacuum_KeepsTheRewrittenSession()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var s = await b.CreateSessionAsync(Manual("x"));
        for (var i = 0; i < 6; i++)
        {
            await s.AddMessageAsync(Msg(i));
            await s.UpdateMetadataAsync(new Dictionary<string, object?> { ["k"] = i });
        }
        await b.CheckpointAsync();
        await b.VacuumAsync(0.0); // commits the rewrite and deletes the old segment
        await s.AddMessageAsync(Msg(6));
        await b.DisposeAsync();
        DamageNewerMetaPage(fs);

        var r = await OpenAsync(fs);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => Msg(i).Content), await ContentsAsync(r, "x"));
        await AssertVerifiedAsync(r);
        await r.DisposeAsync();
    }

    /// <summary>A session whose lost segment was repaired: empty, writable, and the store verifies; then closes it.</summary>
    private static async Task AssertRepairedEmptyAndWritableAsync(EngineBackend b, string id, int next)
    {
        await b.Engine.OpenWorkCompletion; // an unclean open repairs a lost segment in its sweep, after the open
        Assert.Empty(await ContentsAsync(b, id));
        await (await b.GetSessionAsync(id))!.AddMessageAsync(Msg(next));
        Assert.Equal([Msg(next).Content], await ContentsAsync(b, id));
        await AssertVerifiedAsync(b);
        await b.DisposeAsync();
    }

    private static async Task AssertVerifiedAsync(EngineBackend b)
    {
        var report = await b.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
    }

    /// <summary>Flips a bit in the body of the index file's newer meta page (the one with the higher transaction id).</summary>
    private static void DamageNewerMetaPage(FaultInjectingFileSystem fs)
    {
        var index = ReadAll(fs, "index.btree");
        var newer = BinaryPrimitives.ReadUInt64LittleEndian(index.AsSpan(16)) > BinaryPrimitives.ReadUInt64LittleEndian(index.AsSpan(4096 + 16)) ? 0 : 1;
        index[(newer * 4096) + 100] ^= 0x01;
        WriteAll(fs, "index.btree", index);
    }

    internal static byte[] ReadAll(FaultInjectingFileSystem fs, string path)
    {
        using var f = fs.Open(path, create: false);
        var bytes = new byte[f.Length];
        f.Read(0, bytes);
        return bytes;
    }

    internal static void WriteAll(FaultInjectingFileSystem fs, string path, byte[] bytes)
    {
        using var f = fs.Open(path, create: false);
        f.SetLength(0);
        f.Write(0, bytes);
        f.Flush();
    }

    /// <summary>File offsets of the records of a log or segment, in order, up to the first that does not verify.</summary>
    internal static List<long> RecordOffsets(byte[] file)
    {
        var list = new List<long>();
        var pos = FileHeader.Size;
        while (pos < file.Length && RecordCodec.Verify(file.AsSpan(pos), out var h))
        {
            list.Add(pos);
            pos += h.TotalLength;
        }
        return list;
    }
}
