using System.Diagnostics;
using LangSwarm.MemoryEngine;
using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

/// <summary>
/// lsmem run as processes beside a live writer process (lsmem write-load, which prints an 'ack' line after each
/// acknowledged add): the read-only commands work on the store it holds, and a backup taken meanwhile holds every
/// add acknowledged before it started, restores, and verifies clean.
/// </summary>
public sealed class LiveStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public async Task Read_only_commands_and_a_backup_beside_a_live_writer_process()
    {
        var store = _dir.File("store");
        var backup = _dir.File("backup");
        var restored = _dir.File("restored");
        using var writer = Start("write-load", "--store", store, "--sessions", "3");
        var acked = new List<(string Session, string Id)>();
        var reader = Task.Run(async () =>
        {
            while (await writer.StandardOutput.ReadLineAsync() is { } line)
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
        List<(string Session, string Id)> before;
        try
        {
            await WaitForAsync(() => Count(acked) >= 100);
            before = Copy(acked);

            var backed = await RunAsync("backup", backup, "--store", store);
            Assert.True(backed.Exit == 0, backed.Err + backed.Out);
            Assert.Contains("verified", backed.Out, StringComparison.Ordinal);

            var sessions = await RunAsync("sessions", "--store", store);
            Assert.True(sessions.Exit == 0, sessions.Err);
            Assert.Contains("load-0", sessions.Out, StringComparison.Ordinal);
            Assert.Contains("read-only view as of", sessions.Err, StringComparison.Ordinal);
            Assert.Contains("another process holds the store", sessions.Err, StringComparison.Ordinal);

            var shown = await RunAsync("show", "load-1", "--store", store, "--json");
            Assert.True(shown.Exit == 0, shown.Err);
            foreach (var (_, id) in before.Where(a => a.Session == "load-1"))
            {
                Assert.Contains(id, shown.Out, StringComparison.Ordinal);
            }

            var stats = await RunAsync("stats", "--store", store);
            Assert.True(stats.Exit == 0, stats.Err + stats.Out);
            var verify = await RunAsync("verify", "--store", store);
            Assert.True(verify.Exit == 0, verify.Err + verify.Out);
            Assert.StartsWith("ok:", verify.Out, StringComparison.Ordinal);
            var export = await RunAsync("export", "--store", store, "-o", _dir.File("live.jsonl"));
            Assert.True(export.Exit == 0, export.Err);
            Assert.False(writer.HasExited, "the writer kept running beside every command");
        }
        finally
        {
            writer.Kill(entireProcessTree: true);
            await writer.WaitForExitAsync();
            await reader;
        }

        var restore = await RunAsync("restore", backup, "--store", restored);
        Assert.True(restore.Exit == 0, restore.Err + restore.Out);
        var again = await RunAsync("restore", backup, "--store", restored);
        Assert.Equal(ExitCodes.Usage, again.Exit);
        await using var engine = new EngineBackend(restored);
        await engine.ConnectAsync();
        foreach (var group in before.GroupBy(a => a.Session))
        {
            var ids = (await (await engine.GetSessionAsync(group.Key))!.GetMessagesAsync()).Select(m => m.MessageId).ToHashSet();
            Assert.All(group, a => Assert.Contains(a.Id, ids));
        }
        Assert.True((await engine.VerifyAsync()).Ok);
    }

    public void Dispose() => _dir.Dispose();

    private static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", ["exec", FindCli(), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return Process.Start(psi)!;
    }

    private static async Task<CliRun> RunAsync(params string[] args)
    {
        using var p = Start(args);
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(timeout.Token);
        return new CliRun(p.ExitCode, await output, await error);
    }

    private static string FindCli()
    {
        var baseDir = AppContext.BaseDirectory; // .../tests/LangSwarm.Memory.Cli.Tests/bin/<Config>/net10.0/
        var config = new DirectoryInfo(baseDir.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dir = new DirectoryInfo(baseDir);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LangSwarm.MemoryEngine.sln")))
        {
            dir = dir.Parent;
        }
        Assert.NotNull(dir);
        var cli = Path.Combine(dir!.FullName, "src", "LangSwarm.Memory.Cli", "bin", config, "net10.0", "lsmem.dll");
        Assert.True(File.Exists(cli), $"lsmem not built at {cli}");
        return cli;
    }

    private static int Count(List<(string, string)> acked)
    {
        lock (acked)
        {
            return acked.Count;
        }
    }

    private static List<(string Session, string Id)> Copy(List<(string Session, string Id)> acked)
    {
        lock (acked)
        {
            return [.. acked];
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the writer's acks");
            await Task.Delay(10);
        }
    }
}
