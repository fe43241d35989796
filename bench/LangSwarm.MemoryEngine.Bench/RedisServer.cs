using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace LangSwarm.MemoryEngine.Bench;

/// <summary>How a harness-owned redis-server persists.</summary>
public enum RedisPersistence
{
    /// <summary><c>--appendonly yes --appendfsync always</c>: every write fsynced before the reply.</summary>
    AppendFsyncAlways,

    /// <summary><c>--appendonly no</c>: memory only (no fsync at all).</summary>
    None,
}

/// <summary>A redis-server the harness starts on a free loopback port in a temp directory, and stops.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConnectionMultiplexer _admin;
    private readonly string _dir;

    private RedisServer(Process process, ConnectionMultiplexer admin, string dir, int port, RedisPersistence persistence)
    {
        _process = process;
        _admin = admin;
        _dir = dir;
        Port = port;
        Persistence = persistence;
    }

    /// <summary>The loopback port.</summary>
    public int Port { get; }

    /// <summary>The persistence setting it runs with.</summary>
    public RedisPersistence Persistence { get; }

    /// <summary>The arguments for a persistence setting, as the report prints them.</summary>
    public static string Arguments(RedisPersistence p) => p switch
    {
        RedisPersistence.AppendFsyncAlways => "--appendonly yes --appendfsync always --save \"\"",
        _ => "--appendonly no --save \"\"",
    };

    /// <summary>Finds redis-server (REDIS_SERVER, /usr/bin, PATH); null when there is none.</summary>
    public static string? FindExecutable()
    {
        var env = Environment.GetEnvironmentVariable("REDIS_SERVER");
        if (!string.IsNullOrEmpty(env) && File.Exists(env))
        {
            return env;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/local/bin"))
        {
            var p = Path.Combine(dir, "redis-server");
            if (File.Exists(p))
            {
                return p;
            }
        }
        return null;
    }

    /// <summary>Starts a server and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync(string exe, string parentDir, RedisPersistence persistence)
    {
        var dir = Path.Combine(parentDir, $"redis-{persistence}");
        Directory.CreateDirectory(dir);
        var port = FreePort();
        var psi = new ProcessStartInfo(exe)
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--protected-mode", "yes", "--loglevel", "warning" })
        {
            psi.ArgumentList.Add(a);
        }
        if (persistence == RedisPersistence.AppendFsyncAlways)
        {
            foreach (var a in new[] { "--appendonly", "yes", "--appendfsync", "always" })
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.ArgumentList.Add("--appendonly");
            psi.ArgumentList.Add("no");
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                var mux = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true,connectTimeout=1000").ConfigureAwait(false);
                await mux.GetDatabase().PingAsync().ConfigureAwait(false);
                return new RedisServer(process, mux, dir, port, persistence);
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Empties the server (between scenarios).</summary>
    public Task FlushAsync() => _admin.GetServers()[0].FlushAllDatabasesAsync();

    /// <summary>INFO memory's used_memory, in bytes.</summary>
    public async Task<long> UsedMemoryAsync()
    {
        var info = await _admin.GetServers()[0].InfoAsync("memory").ConfigureAwait(false);
        var v = info.SelectMany(g => g).First(kv => kv.Key == "used_memory").Value;
        return long.Parse(v, CultureInfo.InvariantCulture);
    }

    /// <summary>Stops the server (SHUTDOWN NOSAVE, then kill if it lingers) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            _admin.GetServers()[0].Shutdown(ShutdownMode.Never);
        }
        catch (RedisException)
        {
            // The connection drops as the server exits.
        }
        await _admin.DisposeAsync().ConfigureAwait(false);
        if (!_process.WaitForExit(5_000))
        {
            _process.Kill();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
