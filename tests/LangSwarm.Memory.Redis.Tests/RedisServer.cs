using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>
/// A private redis-server process on a free loopback port, in its own temp directory, without persistence; as a
/// Redis Cluster node when asked (its bus on a second free port).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _executable;
    private readonly string _dir;
    private readonly string[] _extraArgs;
    private Process? _process;

    private RedisServer(string executable, int port, string[] extraArgs)
    {
        _executable = executable;
        Port = port;
        _extraArgs = extraArgs;
        _dir = Directory.CreateTempSubdirectory("lsmem-redis-").FullName;
    }

    /// <summary>The port the server listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis endpoint string.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>Starts a server on a free port; fails with install instructions when redis-server is missing.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(FindExecutable("redis-server"), FreePort(), []);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Starts an empty Redis Cluster node (not yet part of a cluster) on free ports.</summary>
    public static async Task<RedisServer> StartClusterNodeAsync()
    {
        string[] args =
        [
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "3000",
            "--cluster-port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];
        var server = new RedisServer(FindExecutable("redis-server"), FreePort(), args);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Stops the server (its data is gone: nothing is persisted).</summary>
    public async Task StopAsync()
    {
        var p = _process;
        _process = null;
        if (p is null)
        {
            return;
        }
        if (!p.HasExited)
        {
            p.Kill();
        }
        await p.WaitForExitAsync();
        p.Dispose();
    }

    /// <summary>Starts the server again on the same port.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }

    /// <summary>The path of a Redis executable on PATH; fails with install instructions when it is missing.</summary>
    public static string FindExecutable(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException(
            $"{name} was not found on PATH, so the Redis backend tests cannot run. Install it with: apt-get install -y redis-server");
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task StartProcessAsync()
    {
        var psi = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = _dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args = ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", _dir, .. _extraArgs];
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start redis-server.");
        var output = new StringBuilder();
        p.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        p.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _process = p;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited)
            {
                break;
            }
            if (await AnswersPingAsync())
            {
                return;
            }
            await Task.Delay(50);
        }
        string log;
        lock (output)
        {
            log = output.ToString();
        }
        await StopAsync();
        throw new InvalidOperationException($"redis-server did not start on port {Port}. Output:\n{log}");
    }

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var n = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
