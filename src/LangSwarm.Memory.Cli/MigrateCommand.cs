using System.CommandLine;
using System.Diagnostics;
using LangSwarm.Memory.Sqlite;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem migrate --from SPEC --to SPEC</c>: copies a store (or a LangSwarm V1 store) into another, resumably, then verifies.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "Source store: BACKEND:OPTIONS (engine:/dir, sqlite:/file.db, redis:host:port, v1_sqlite:/langswarm_sessions.db).", Required = true };
        var to = new Option<string>("--to") { Description = "Target store: BACKEND:OPTIONS.", Required = true };
        var replace = new Option<bool>("--replace") { Description = "Copy over target sessions whose content differs (default: report them and leave them)." };
        var noVerify = new Option<bool>("--no-verify") { Description = "Skip comparing every session of the source with the target afterwards." };
        var zone = new Option<string?>("--v1-time-zone") { Description = "Time zone of a V1 store's local timestamps (IANA id, e.g. Europe/Berlin; default: this machine's)." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress bar; one summary line at the end." };
        var c = new Command("migrate", "Copy every session from one store into another, keeping ids, sequences, summaries and times; run again after an interruption to resume; verify at the end.");
        foreach (var o in new Option[] { from, to, replace, noVerify, zone, quiet })
        {
            c.Options.Add(o);
        }
        CommandRunner.SetAction(c, (pr, io, ct) => RunAsync(io, pr.GetValue(from)!, pr.GetValue(to)!, pr.GetValue(replace), !pr.GetValue(noVerify), pr.GetValue(zone), pr.GetValue(quiet), null, ct));
        return c;
    }

    /// <summary>The migration; <paramref name="afterSession"/> lets a test interrupt it part way.</summary>
    internal static async Task<int> RunAsync(CliIO io, string fromSpec, string toSpec, bool replace, bool verify, string? zoneId, bool quiet, Action<int>? afterSession, CancellationToken ct)
    {
        var source = StoreSpec.Parse(fromSpec);
        var target = StoreSpec.Parse(toSpec);
        if (target.Backend == StoreSpec.V1Sqlite)
        {
            throw new CliUsageException("v1_sqlite can only be a source.");
        }
        if (source.Backend == target.Backend && source.Location is { } a && a == target.Location)
        {
            throw new CliUsageException("--from and --to name the same store.");
        }
        var clock = Stopwatch.StartNew();
        await using var targetStore = await StoreAccess.OpenAsync(target, StoreAccessMode.ReadWrite, ct);
        var runner = new MigrationRunner(targetStore.Backend, replace) { AfterSession = afterSession };
        MigrateResult result;
        try
        {
            if (source.Backend == StoreSpec.V1Sqlite)
            {
                var path = source.Location ?? V1MemoryMigrator.DefaultFileName;
                if (!File.Exists(path))
                {
                    throw new CliUsageException($"no V1 session store at '{path}'.");
                }
                var options = new V1MigrationOptions { SourceTimeZone = Zone(zoneId) };
                result = await ProgressView.RunAsync(io, quiet, "migrate", "sessions", null, tick => runner.FromV1Async(new V1MemoryMigrator(path, options), verify, tick, ct));
            }
            else
            {
                await using var sourceStore = await StoreAccess.OpenAsync(source, StoreAccessMode.Read, ct);
                result = await ProgressView.RunAsync(io, quiet, "migrate", "sessions", null, tick => runner.FromBackendAsync(sourceStore.Backend, verify, tick, ct));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await io.Err.WriteLineAsync("lsmem: migrate interrupted; run the same command again to resume (sessions already copied are skipped)");
            return ExitCodes.Problems;
        }
        foreach (var note in result.Notes)
        {
            await io.Err.WriteLineAsync($"lsmem: not mapped as it was: {note}");
        }
        foreach (var problem in result.Problems)
        {
            await io.Err.WriteLineAsync($"lsmem: {problem}");
        }
        await io.Out.WriteLineAsync(
            $"migrated {source.Display} -> {target.Display}: copied {result.Copied:N0}, copied again {result.Recopied:N0} (partial), already there {result.Identical:N0}, conflicts {result.Conflicts:N0}, failed {result.Failed:N0}; "
            + $"{result.Messages:N0} message(s){(verify ? $"; verified {result.Verified:N0}" : "; not verified")} in {clock.Elapsed.TotalSeconds:F1} s{ExportCommand.Rate(result.Messages, clock.Elapsed)}");
        return result.Ok ? ExitCodes.Ok : ExitCodes.Problems;
    }

    private static TimeZoneInfo Zone(string? id)
    {
        if (id is null)
        {
            return TimeZoneInfo.Local;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException)
        {
            throw new CliUsageException($"--v1-time-zone '{id}' is not a known time zone.");
        }
    }
}
