using System.Diagnostics;
using LangSwarm.Memory;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// A real process writing under Strict is killed with SIGKILL at random moments; every add it reported as
/// acknowledged (on stdout, after the add returned) must be in the store when it is reopened.
/// </summary>
public sealed class KillTest
{
    [Fact]
    public async Task SigkilledWriter_LosesNoAcknowledgedAdd()
    {
        using var dir = new TempStore();
        var cli = FindCli();
        var acked = new Dictionary<string, List<string>>();
        var random = new Random(42);
        for (var round = 0; round < 4; round++)
        {
            var psi = new ProcessStartInfo("dotnet", ["exec", cli, "write-load", "--store", dir.Path, "--sessions", "3"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var child = Process.Start(psi)!;
            var lines = new List<string>();
            var reader = Task.Run(async () =>
            {
                while (await child.StandardOutput.ReadLineAsync() is { } line)
                {
                    lock (lines)
                    {
                        lines.Add(line);
                    }
                }
            });
            // Let it write for a while (at least a few acks), then kill it mid-stream.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline)
            {
                lock (lines)
                {
                    if (lines.Count >= 20)
                    {
                        break;
                    }
                }
                await Task.Delay(10);
            }
            await Task.Delay(random.Next(50, 400));
            child.Kill(entireProcessTree: true); // SIGKILL on Unix: no finally, no flush, no checkpoint
            await child.WaitForExitAsync();
            await reader;
            lock (lines)
            {
                Assert.True(lines.Count >= 20, $"the writer acknowledged only {lines.Count} adds: {child.StandardError.ReadToEnd()}");
                foreach (var line in lines)
                {
                    var parts = line.Split(' ');
                    if (parts is ["ack", var session, var id])
                    {
                        (acked.TryGetValue(session, out var l) ? l : acked[session] = []).Add(id);
                    }
                }
            }

            var backend = new EngineBackend(dir.Path);
            await backend.ConnectAsync();
            foreach (var (session, ids) in acked)
            {
                var stored = (await (await backend.GetSessionAsync(session))!.GetMessagesAsync()).Select(m => m.MessageId).ToList();
                var set = stored.ToHashSet();
                var missing = ids.Where(i => !set.Contains(i)).ToList();
                Assert.True(missing.Count == 0, $"round {round}: {missing.Count} acknowledged adds of {session} lost");
                // Acknowledged adds keep their order.
                Assert.Equal(ids, stored.Where(ids.ToHashSet().Contains));
            }
            Assert.True((await backend.VerifyAsync()).Ok);
            await backend.DisposeAsync();
        }
    }

    internal static string FindCli()
    {
        var baseDir = AppContext.BaseDirectory; // .../tests/LangSwarm.MemoryEngine.Tests/bin/<Config>/net10.0/
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
}
