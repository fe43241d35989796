using System.Diagnostics;
using System.Security.Cryptography;
using LangSwarm.Memory;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Online backups and restores, and read-only views beside a live writer: every add acknowledged before a backup
/// or a view began is in it, the copies verify clean, and nothing a view does reaches the store it views.
/// </summary>
public sealed class BackupTests
{
    [Theory]
    [InlineData(DurabilityMode.Strict)]
    [InlineData(DurabilityMode.None)]
    public async Task Backup_while_adds_go_on_holds_every_acked_add_and_restores_clean(DurabilityMode mode)
    {
        using var dir = new TempStore();
        using var backupDir = new TempStore();
        using var restoredDir = new TempStore();
        // A small log: checkpoints run during the writes (and are held off during the copy).
        await using var backend = new EngineBackend(new EngineOptions { Path = dir.Path, Durability = mode, CheckpointLogBytes = 64 * 1024 });
        await backend.ConnectAsync();
        var acked = new List<(string Session, string Id)>();
        using var stop = new CancellationTokenSource();
        var writer = WriteUntilAsync(backend, acked, stop.Token);
        await WaitForAsync(() => Count(acked) >= 300);

        var before = Snapshot(acked);
        var report = await backend.BackupAsync(backupDir.Path);
        var afterBackup = Count(acked);
        await stop.CancelAsync();
        await writer;

        Assert.NotNull(report.Verify);
        Assert.True(report.Verify!.Ok, string.Join("; ", report.Verify.Problems));
        Assert.True(report.Files > 0 && report.Bytes > 0);
        Assert.True(afterBackup > before.Count, "the writer kept adding during the backup");
        await AssertHoldsAsync(backupDir.Path, before);

        var restored = await EngineBackend.RestoreAsync(backupDir.Path, restoredDir.Path);
        Assert.True(restored.Ok, string.Join("; ", restored.Problems));
        await AssertHoldsAsync(restoredDir.Path, before);
    }

    [Fact]
    public async Task A_backup_without_the_writers_help_starts_again_when_a_checkpoint_commits_under_it()
    {
        using var dir = new TempStore();
        using var backupDir = new TempStore();
        // Checkpoints every few hundred adds, which the copy cannot hold off: it must see them and start again.
        await using var backend = new EngineBackend(new EngineOptions { Path = dir.Path, Durability = DurabilityMode.None, CheckpointLogBytes = 256 * 1024 });
        await backend.ConnectAsync();
        var acked = new List<(string Session, string Id)>();
        using var stop = new CancellationTokenSource();
        var writer = WriteUntilAsync(backend, acked, stop.Token);
        await WaitForAsync(() => Count(acked) >= 2_000);

        var before = Snapshot(acked);
        var report = await EngineBackend.BackupStoreAsync(dir.Path, backupDir.Path);
        await stop.CancelAsync();
        await writer;

        Assert.InRange(report.Attempts, 1, 8);
        Assert.True(report.Verify!.Ok, string.Join("; ", report.Verify.Problems));
        await AssertHoldsAsync(backupDir.Path, before);
    }

    [Fact]
    public async Task Backup_and_restore_refuse_a_target_that_holds_files_and_a_target_inside_the_store()
    {
        using var dir = new TempStore();
        using var other = new TempStore();
        await using var backend = new EngineBackend(dir.Path);
        await backend.ConnectAsync();
        await (await backend.CreateSessionAsync(new SessionMetadata("s1"))).AddMessageAsync(new Message(MessageRole.User, "hello"));
        Directory.CreateDirectory(other.Path);
        await File.WriteAllTextAsync(Path.Combine(other.Path, "keep.txt"), "mine");

        await Assert.ThrowsAsync<ArgumentException>(() => backend.BackupAsync(other.Path));
        await Assert.ThrowsAsync<ArgumentException>(() => backend.BackupAsync(Path.Combine(dir.Path, "inside")));
        await Assert.ThrowsAsync<ArgumentException>(() => EngineBackend.RestoreAsync(dir.Path, other.Path));
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(other.Path, "keep.txt")));
        Assert.Single(Directory.GetFileSystemEntries(other.Path));
        await Assert.ThrowsAsync<MemoryException>(() => EngineBackend.BackupStoreAsync(other.Path, Path.Combine(other.Path, "..", Guid.NewGuid().ToString("N"))));
    }

    [Fact]
    public async Task A_read_only_view_beside_a_writer_sees_what_was_acked_refuses_writes_and_verifies_clean()
    {
        using var dir = new TempStore();
        await using var backend = new EngineBackend(new EngineOptions { Path = dir.Path, CheckpointLogBytes = 64 * 1024 });
        await backend.ConnectAsync();
        var acked = new List<(string Session, string Id)>();
        using var stop = new CancellationTokenSource();
        var writer = WriteUntilAsync(backend, acked, stop.Token);
        await WaitForAsync(() => Count(acked) >= 200);

        var before = Snapshot(acked);
        await using (var view = new EngineBackend(new EngineOptions { Path = dir.Path, ReadOnly = true }))
        {
            await view.ConnectAsync();
            Assert.NotNull(view.Snapshot);
            Assert.True(view.Snapshot!.WriterActive);
            await AssertHoldsAsync(view, before);
            var verify = await view.VerifyAsync();
            Assert.True(verify.Ok, string.Join("; ", verify.Problems));

            var session = await view.GetSessionAsync(before[0].Session);
            Assert.NotNull(session);
            await Assert.ThrowsAsync<StoreReadOnlyException>(() => session!.AddMessageAsync(new Message(MessageRole.User, "not here")));
            await Assert.ThrowsAsync<StoreReadOnlyException>(() => view.CreateSessionAsync(new SessionMetadata("new-in-view")));
            await Assert.ThrowsAsync<StoreReadOnlyException>(() => view.DeleteSessionAsync(before[0].Session));
            await Assert.ThrowsAsync<StoreReadOnlyException>(() => view.VacuumAsync());
        }
        await stop.CancelAsync();
        await writer;
        // The writer never saw the view: its session still holds every acked add, and the store verifies.
        await AssertHoldsAsync(backend, Snapshot(acked));
        Assert.True((await backend.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task A_read_only_view_of_a_closed_store_changes_no_byte_of_it()
    {
        using var killed = new TempStore();
        using var dir = new TempStore();
        await using (var backend = new EngineBackend(new EngineOptions { Path = killed.Path, Durability = DurabilityMode.None }))
        {
            await backend.ConnectAsync();
            for (var s = 0; s < 3; s++)
            {
                var session = await backend.CreateSessionAsync(new SessionMetadata($"s{s}"));
                for (var i = 0; i < 50; i++)
                {
                    await session.AddMessageAsync(new Message(MessageRole.User, $"message {i} of s{s}") { MessageId = $"m{s}-{i}" });
                }
            }
            backend.Abandon(); // as a killed writer leaves it: the view has a log to replay and tails to scan
            foreach (var file in Directory.EnumerateFiles(killed.Path, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "LOCK"))
            {
                var to = Path.Combine(dir.Path, Path.GetRelativePath(killed.Path, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to);
            }
        }
        var hashes = HashAll(dir.Path);
        await using (var view = new EngineBackend(new EngineOptions { Path = dir.Path, ReadOnly = true }))
        {
            await view.ConnectAsync();
            Assert.False(view.Snapshot!.WriterActive);
            Assert.Equal(50, (await (await view.GetSessionAsync("s2"))!.GetMessagesAsync()).Count);
            Assert.True((await view.VerifyAsync()).Ok);
        }
        Assert.Equal(hashes, HashAll(dir.Path));
    }

    [Fact]
    public async Task Backup_and_view_of_a_store_a_live_writer_process_holds()
    {
        using var dir = new TempStore();
        using var backupDir = new TempStore();
        var psi = new ProcessStartInfo("dotnet", ["exec", KillTest.FindCli(), "write-load", "--store", dir.Path, "--sessions", "3"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var child = Process.Start(psi)!;
        var acked = new List<(string Session, string Id)>();
        var reader = Task.Run(async () =>
        {
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.Split(' ') is ["ack", var session, var id])
                {
                    lock (acked)
                    {
                        acked.Add((session, id));
                    }
                }
            }
        });
        try
        {
            await WaitForAsync(() => Count(acked) >= 50, TimeSpan.FromSeconds(30));
            var before = Snapshot(acked);
            var report = await EngineBackend.BackupStoreAsync(dir.Path, backupDir.Path);
            Assert.True(report.Verify!.Ok, string.Join("; ", report.Verify.Problems));
            await AssertHoldsAsync(backupDir.Path, before);

            var seen = Snapshot(acked);
            await using var view = new EngineBackend(new EngineOptions { Path = dir.Path, ReadOnly = true });
            await view.ConnectAsync();
            Assert.True(view.Snapshot!.WriterActive);
            await AssertHoldsAsync(view, seen);
            Assert.True((await view.VerifyAsync()).Ok);
            Assert.False(child.HasExited, "the writer kept running beside the backup and the view");
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
            await reader;
        }
    }

    private static async Task WriteUntilAsync(EngineBackend backend, List<(string Session, string Id)> acked, CancellationToken stop)
    {
        var sessions = new List<IMemorySession>();
        for (var s = 0; s < 4; s++)
        {
            sessions.Add(await backend.CreateSessionAsync(new SessionMetadata($"w{s}") { MaxMessages = 10_000_000, MaxTokens = int.MaxValue / 2, AutoSummarizeThreshold = int.MaxValue / 2, SummaryStrategy = SummaryStrategy.Manual }));
        }
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var s = i % sessions.Count;
            var id = $"m{i}";
            await sessions[s].AddMessageAsync(new Message(MessageRole.User, $"message {i}: " + new string('x', 200 + (i % 300))) { MessageId = id });
            lock (acked)
            {
                acked.Add(($"w{s}", id));
            }
            if (i % 50 == 0)
            {
                await Task.Yield();
            }
        }
    }

    private static async Task AssertHoldsAsync(string store, List<(string Session, string Id)> expected)
    {
        await using var backend = new EngineBackend(store);
        await backend.ConnectAsync();
        await AssertHoldsAsync(backend, expected);
    }

    private static async Task AssertHoldsAsync(EngineBackend backend, List<(string Session, string Id)> expected)
    {
        foreach (var group in expected.GroupBy(e => e.Session))
        {
            var session = await backend.GetSessionAsync(group.Key);
            Assert.NotNull(session);
            var stored = (await session!.GetMessagesAsync()).Select(m => m.MessageId).ToHashSet();
            var missing = group.Where(e => !stored.Contains(e.Id)).Select(e => e.Id).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} acknowledged adds of {group.Key} missing, first {missing.FirstOrDefault()}");
        }
    }

    private static int Count(List<(string, string)> acked)
    {
        lock (acked)
        {
            return acked.Count;
        }
    }

    private static List<(string Session, string Id)> Snapshot(List<(string Session, string Id)> acked)
    {
        lock (acked)
        {
            return [.. acked];
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the writer");
            await Task.Delay(5);
        }
    }

    private static SortedDictionary<string, string> HashAll(string root) =>
        new(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);
}
