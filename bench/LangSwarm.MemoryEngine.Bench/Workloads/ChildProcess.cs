using System.Diagnostics;
using System.Reflection;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// Child processes of this executable (M1's and S2's): each measures in a process of its own, so that working
/// sets are not shared and a kill stops a store the way a crash does.
/// </summary>
public static class ChildProcess
{
    /// <summary>Runs the child to its end; returns what follows <paramref name="marker"/> on its stdout.</summary>
    public static async Task<string> RunForMarkerAsync(string arguments, string marker)
    {
        using var p = Process.Start(StartInfo(arguments)) ?? throw new InvalidOperationException("Child process did not start.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().ConfigureAwait(false);
        var line = (await stdout.ConfigureAwait(false)).Split('\n').FirstOrDefault(l => l.StartsWith(marker, StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
        {
            throw Failed(arguments, $"exited {p.ExitCode}", await stderr.ConfigureAwait(false));
        }
        return line[marker.Length..].Trim();
    }

    /// <summary>
    /// Starts the child, waits for <paramref name="marker"/> on its stdout (what it wrote before is then acknowledged)
    /// and kills it: no dispose, no close, what it holds open stays as a crash leaves it.
    /// </summary>
    public static async Task RunUntilMarkerThenKillAsync(string arguments, string marker, TimeSpan timeout)
    {
        using var p = Process.Start(StartInfo(arguments)) ?? throw new InvalidOperationException("Child process did not start.");
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        var seen = false;
        try
        {
            while (await p.StandardOutput.ReadLineAsync(cts.Token).ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith(marker, StringComparison.Ordinal))
                {
                    seen = true;
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Timed out: killed below and reported as a failure.
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
            await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        if (!seen)
        {
            throw Failed(arguments, $"ended (exit {p.ExitCode}) without '{marker.Trim()}'", await stderr.ConfigureAwait(false));
        }
    }

    /// <summary>The child's whole stderr goes to the log; the exception (and so the table cell) keeps its first line.</summary>
    private static InvalidOperationException Failed(string arguments, string what, string stderr)
    {
        Macro.BenchContext.Log($"child '{arguments}' {what}; its stderr:\n{stderr}");
        var first = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no stderr";
        return new InvalidOperationException($"child {what}: {first}");
    }

    private static ProcessStartInfo StartInfo(string arguments)
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Arguments = Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? $"\"{Assembly.GetEntryAssembly()!.Location}\" {arguments}"
            : arguments;
        return psi;
    }
}
