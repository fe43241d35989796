using System.CommandLine;
using System.Diagnostics;
using System.Text;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem import FILE</c>: sessions from JSON Lines, each imported whole or not at all.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The JSON Lines file (- for standard input)." };
        var replace = new Option<bool>("--replace") { Description = "Replace sessions that already exist (default: leave them and report them)." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress bar; one summary line at the end." };
        var c = new Command("import", "Import sessions from JSON Lines (lsmem export's format); a session is imported whole or not at all; exit 1 when any was not.");
        c.Arguments.Add(file);
        StoreOptions.AddTo(c);
        c.Options.Add(replace);
        c.Options.Add(quiet);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            var path = pr.GetValue(file)!;
            if (path != "-" && !File.Exists(path))
            {
                throw new CliUsageException($"no file '{path}'.");
            }
            long? total = path == "-" ? null : await CountSessionsAsync(path, ct);
            await using var store = await StoreAccess.OpenAsync(StoreOptions.Spec(pr), StoreAccessMode.ReadWrite, ct);
            var clock = Stopwatch.StartNew();
            using var reader = path == "-" ? null : new StreamReader(path, Encoding.UTF8);
            var result = await ProgressView.RunAsync(io, pr.GetValue(quiet), "import", "sessions", total, tick => SessionImporter.ImportAsync(store.Backend, reader ?? Console.In, pr.GetValue(replace), tick, ct));
            foreach (var problem in result.Problems)
            {
                await io.Err.WriteLineAsync($"lsmem: {problem}");
            }
            await io.Out.WriteLineAsync(
                $"imported {result.Imported:N0} session(s) ({result.Replaced:N0} replacing existing ones), {result.Messages:N0} message(s), {result.Summaries:N0} summar{(result.Summaries == 1 ? "y" : "ies")}; "
                + $"skipped {result.Existing:N0} existing, {result.Failed:N0} failed in {clock.Elapsed.TotalSeconds:F1} s{ExportCommand.Rate(result.Messages, clock.Elapsed)}");
            return result.Existing + result.Failed == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return c;
    }

    private static async Task<long> CountSessionsAsync(string path, CancellationToken ct)
    {
        long n = 0;
        using var reader = new StreamReader(path, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("{\"type\":\"session\"", StringComparison.Ordinal))
            {
                n++;
            }
        }
        return n;
    }
}

/// <summary>What an import did.</summary>
internal sealed record ImportResult(int Imported, int Replaced, int Existing, int Failed, long Messages, long Summaries, IReadOnlyList<string> Problems);

/// <summary>Reads JSON Lines sessions and writes each whole into a backend (<see cref="SessionTransfer.WriteAsync"/>).</summary>
internal static class SessionImporter
{
    /// <summary>Imports every session of the stream; sessions that exist are left alone unless <paramref name="replace"/>.</summary>
    public static async Task<ImportResult> ImportAsync(IMemoryBackend backend, TextReader reader, bool replace, ProgressTicker progress, CancellationToken cancellationToken)
    {
        int imported = 0, replaced = 0, existing = 0, failed = 0;
        long messages = 0, summaries = 0;
        var problems = new List<string>();
        await foreach (var entry in SessionJsonlReader.ReadAsync(reader, cancellationToken))
        {
            progress.Advance();
            if (entry.Record is not { } record)
            {
                failed++;
                problems.Add($"session {(entry.SessionId is null ? "?" : $"'{entry.SessionId}'")} not imported: {entry.Error}");
                continue;
            }
            var existed = await backend.GetSessionAsync(record.SessionId, cancellationToken) is not null;
            try
            {
                await SessionTransfer.WriteAsync(backend, record, replace, cancellationToken);
            }
            catch (SessionAlreadyExistsException)
            {
                existing++;
                problems.Add($"session '{record.SessionId}' exists; not imported (--replace replaces it)");
                continue;
            }
            catch (Exception ex) when (ex is MemoryException or System.Data.Common.DbException or IOException)
            {
                // Checked in full before the write, or taken out again when the store failed part way: none of it stays.
                failed++;
                problems.Add($"session '{record.SessionId}' (line {entry.Line}) not imported: {ex.Message}");
                continue;
            }
            imported++;
            replaced += existed ? 1 : 0;
            messages += record.Messages.Count;
            summaries += record.Summaries.Count;
        }
        return new ImportResult(imported, replaced, existing, failed, messages, summaries, problems);
    }
}
