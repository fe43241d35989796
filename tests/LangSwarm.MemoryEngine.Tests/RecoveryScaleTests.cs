using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Testing;
using LangSwarm.MemoryEngine.Index;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// An open reads what changed since the checkpoint, not the store: the segments of the sessions the commit logs
/// name, and the logs. What only a listing finds is swept after the open, in the background.
/// </summary>
public sealed class RecoveryScaleTests
{
    private static EngineOptions Options(IFileSystem fs) => new()
    {
        Path = "store",
        FileSystem = fs,
        Durability = DurabilityMode.Strict,
        AutoVacuumDeadFraction = null,
    };

    private static async Task<EngineBackend> OpenAsync(IFileSystem fs)
    {
        var b = new EngineBackend(Options(fs), new CrashHarness.FixedTokenCounter());
        await b.ConnectAsync();
        return b;
    }

    private static Message Msg(int i) => new(MessageRole.User, $"message {i} " + new string('y', i % 5 * 40)) { TokenCount = 3 };

    private static SessionMetadata Manual(string id) => new(id, "u") { SummaryStrategy = SummaryStrategy.Manual };

    private static void Kill(FaultInjectingFileSystem fs, EngineBackend b)
    {
        fs.Kill();
        b.Abandon();
        fs.ProcessDied();
    }

    private static async Task<List<string>> ContentsAsync(EngineBackend b, string id) =>
        [.. (await (await b.GetSessionAsync(id))!.GetMessagesAsync()).Select(m => m.Content)];

    /// <summary>A store of <paramref name="sessions"/> sessions, checkpointed, then three of them written to, then killed.</summary>
    private static async Task<FaultInjectingFileSystem> KilledStoreAsync(int sessions)
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        for (var i = 0; i < sessions; i++)
        {
            var s = await b.CreateSessionAsync(Manual($"s{i}"));
            await s.AddMessagesAsync([Msg(i), Msg(i + 1)]);
        }
        await b.CheckpointAsync();
        for (var i = 0; i < 3; i++)
        {
            var s = (await b.GetSessionAsync($"s{i * 7}"))!;
            await s.AddMessageAsync(Msg(1000 + i));
        }
        var late = await b.CreateSessionAsync(Manual("late"));
        await late.AddMessageAsync(Msg(2000));
        Kill(fs, b);
        return fs;
    }

    [Fact]
    public async Task UncleanOpen_ReadsTheSameNumberOfFiles_WhateverTheNumberOfSessions()
    {
        var counts = new List<(int Opened, int Listed, int Read)>();
        foreach (var sessions in new[] { 20, 400 })
        {
            var fs = await KilledStoreAsync(sessions);
            var counting = new CountingFileSystem(fs);
            var b = new EngineBackend(Options(counting), new CrashHarness.FixedTokenCounter());
            await b.ConnectAsync();
            var recovery = b.Recovery!;
            Assert.False(recovery.SegmentsListed);
            // What the open left to the background (its checkpoint, the sweep's one listing) counts as well.
            await b.Engine.OpenWorkCompletion;
            var opened = counting.SegmentOpens;
            var listed = counting.SegmentListings;
            counts.Add((opened, listed, recovery.SegmentFilesRead));

            Assert.Equal([Msg(0).Content, Msg(1).Content, Msg(1000).Content], await ContentsAsync(b, "s0"));
            Assert.Equal([Msg(14).Content, Msg(15).Content, Msg(1002).Content], await ContentsAsync(b, "s14"));
            Assert.Equal([Msg(2000).Content], await ContentsAsync(b, "late"));
            Assert.Equal(sessions + 1, (await b.ListSessionsAsync(limit: 10_000)).Count);
            await b.Engine.OpenWorkCompletion;
            var report = await b.VerifyAsync();
            Assert.True(report.Ok, string.Join("; ", report.Problems));
            await b.DisposeAsync();
        }
        // The open reads no segment: it places the log's records of the four sessions the log names, and writes
        // them to those sessions' segments after it (opening them and nothing else); the directory is listed
        // once, by the sweep after the open.
        Assert.Equal(counts[0], counts[1]);
        Assert.Equal(1, counts[0].Listed);
        Assert.Equal(0, counts[0].Read);
        Assert.InRange(counts[0].Opened, 1, 4);
    }

    [Fact]
    public async Task UncleanOpen_SweepsWhatACrashLeftBehind_AndThenClosesCleanly()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var keep = await b.CreateSessionAsync(Manual("keep"));
        await keep.AddMessagesAsync([Msg(1), Msg(2)]);
        var gone = await b.CreateSessionAsync(Manual("gone"));
        await gone.AddMessageAsync(Msg(3));
        b.Engine.Index.TryGet("keep", out var keepEntry);
        b.Engine.Index.TryGet("gone", out var goneEntry);
        var (keepNo, goneNo) = (keepEntry.Number, goneEntry.Number);
        await b.CheckpointAsync();
        Assert.True(await b.DeleteSessionAsync("gone"));
        await b.CheckpointAsync(); // covers the delete: the log no longer names the session
        var keepLength = fs.ListFiles(SegmentFiles.Directory).Single(f => f.Name == SegmentFiles.NameFor(keepNo, 0)).Length;
        Kill(fs, b);

        // What a crash can leave that no log names: a deleted session's file, a compaction's set that never
        // committed, and a tail past what the index knows (no log kept it: a power loss outside Strict).
        Write(fs, SegmentFiles.PathFor(goneNo, 0), Header(goneNo, 0));
        Write(fs, SegmentFiles.PathFor(keepNo, 1024), [.. Header(keepNo, 1024), .. new byte[100]]);
        var tail = StoreDamageTests.ReadAll(fs, SegmentFiles.PathFor(keepNo, 0))[(int)FileHeader.Size..];
        Write(fs, SegmentFiles.PathFor(keepNo, 0), [.. StoreDamageTests.ReadAll(fs, SegmentFiles.PathFor(keepNo, 0)), .. tail]);

        var r = await OpenAsync(fs);
        Assert.False(r.Recovery!.SegmentsListed);
        await r.Engine.OpenWorkCompletion;
        Assert.False(fs.FileExists(SegmentFiles.PathFor(goneNo, 0)));
        Assert.False(fs.FileExists(SegmentFiles.PathFor(keepNo, 1024)));
        Assert.Equal(keepLength, fs.ListFiles(SegmentFiles.Directory).Single(f => f.Name == SegmentFiles.NameFor(keepNo, 0)).Length);
        Assert.Equal([Msg(1).Content, Msg(2).Content], await ContentsAsync(r, "keep"));
        await (await r.GetSessionAsync("keep"))!.AddMessageAsync(Msg(4));
        var report = await r.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        await r.DisposeAsync();
        Assert.True(fs.FileExists("CLEAN"), "a close after the sweep is clean");

        var again = await OpenAsync(fs);
        Assert.Equal([Msg(1).Content, Msg(2).Content, Msg(4).Content], await ContentsAsync(again, "keep"));
        Assert.Null(await again.GetSessionAsync("gone"));
        await again.DisposeAsync();
    }

    [Fact]
    public async Task UncleanOpen_ASessionWhoseRecordsAllReachedItsSegment_KeepsItsNumber()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        await (await b.CreateSessionAsync(Manual("old"))).AddMessageAsync(Msg(1));
        await b.CheckpointAsync();
        var late = await b.CreateSessionAsync(Manual("late"));
        await late.AddMessageAsync(Msg(2));
        await late.GetMessagesAsync(); // a read writes the segment's buffered appends: the segment holds them all
        b.Engine.Index.TryGet("late", out var lateEntry);
        var lateNumber = lateEntry.Number;
        Kill(fs, b);

        // The open places the log's records where the segment already holds them, and rewrites the same bytes.
        var r = await OpenAsync(fs);
        Assert.Equal(0, r.Recovery!.SegmentFilesRead);
        await (await r.CreateSessionAsync(Manual("newer"))).AddMessageAsync(Msg(3));
        r.Engine.Index.TryGet("newer", out var newer);
        Assert.True(newer.Number > lateNumber, $"the new session took number {newer.Number}; 'late' holds {lateNumber}");
        Assert.Equal([Msg(2).Content], await ContentsAsync(r, "late"));
        Assert.True(await r.DeleteSessionAsync("late"));
        Assert.Equal([Msg(3).Content], await ContentsAsync(r, "newer"));
        await r.DisposeAsync();
    }

    [Fact]
    public async Task UncleanOpen_MeetingADamagedSessionRecord_RebuildsFromTheSegments_InTheSameOpen()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        for (var i = 0; i < 60; i++)
        {
            await (await b.CreateSessionAsync(Manual($"s{i}"))).AddMessagesAsync([Msg(i), Msg(i + 1)]);
        }
        await b.CheckpointAsync();
        for (var i = 0; i < 60; i++)
        {
            await (await b.GetSessionAsync($"s{i}"))!.AddMessageAsync(Msg(1000 + i)); // the log names every session
        }
        Kill(fs, b);
        var index = StoreDamageTests.ReadAll(fs, IndexFile.FileName);
        Assert.True(IndexFileTests.DamageFirstLeafOf(index, IndexKeys.Session));
        StoreDamageTests.WriteAll(fs, IndexFile.FileName, index);

        b = await OpenAsync(fs);
        Assert.False(b.Recovery!.CheckpointLoaded);
        Assert.Equal(180, (await b.GetUsageStatsAsync()).TotalMessages);
        Assert.Equal(3, (await ContentsAsync(b, "s59")).Count);
        Assert.True((await b.VerifyAsync()).Ok);
        Assert.False(fs.FileExists(StoreRoot.RebuildFile));
        await b.DisposeAsync();
    }

    [Fact]
    public async Task UncleanOpen_MovesTheNextLsnAnEpochPastTheCheckpoint()
    {
        var fs = await KilledStoreAsync(20);
        var b = await OpenAsync(fs);
        Assert.True(b.Engine.NextLsn >= StoreRecovery.LsnEpoch, $"next LSN {b.Engine.NextLsn}");
        await b.Engine.OpenWorkCompletion; // a close before the sweep has run leaves no CLEAN
        await b.DisposeAsync();
        // A clean open keeps counting from where the close left it.
        var clean = await OpenAsync(fs);
        Assert.True(clean.Engine.NextLsn < 2 * StoreRecovery.LsnEpoch);
        await clean.DisposeAsync();
    }

    private static byte[] Header(ulong session, uint segment)
    {
        var header = new byte[FileHeader.Size];
        new FileHeader(FileKind.Segment, FileHeader.VersionFor(0), session, segment).WriteTo(header);
        return header;
    }

    private static void Write(FaultInjectingFileSystem fs, string path, byte[] bytes)
    {
        fs.Open(path, create: true).Dispose();
        StoreDamageTests.WriteAll(fs, path, bytes);
        fs.SyncDirectory(SegmentFiles.Directory);
    }

    /// <summary>Counts what an open asks of the segment directory: files opened and listings.</summary>
    private sealed class CountingFileSystem(IFileSystem inner) : IFileSystem
    {
        private int _segmentOpens;
        private int _segmentListings;

        public int SegmentOpens => Volatile.Read(ref _segmentOpens);

        public int SegmentListings => Volatile.Read(ref _segmentListings);

        public void CreateDirectory(string path) => inner.CreateDirectory(path);

        public IReadOnlyList<FileEntry> ListFiles(string directory)
        {
            if (directory == SegmentFiles.Directory)
            {
                Interlocked.Increment(ref _segmentListings);
            }
            return inner.ListFiles(directory);
        }

        public bool SyncAll() => inner.SyncAll();

        public bool FileExists(string path) => inner.FileExists(path);

        public long? FileLength(string path) => inner.FileLength(path);

        public IStorageFile Open(string path, bool create)
        {
            if (path.StartsWith(SegmentFiles.Directory + "/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _segmentOpens);
            }
            return inner.Open(path, create);
        }

        public void Delete(string path) => inner.Delete(path);

        public void Rename(string from, string to) => inner.Rename(from, to);

        public void SyncDirectory(string path) => inner.SyncDirectory(path);

        public IDisposable LockExclusive(string path) => inner.LockExclusive(path);
    }
}
