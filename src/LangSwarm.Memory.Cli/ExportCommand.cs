using System.CommandLine;
using System.Diagnostics;
using System.Text;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem export</c>: sessions as JSON Lines (<see cref="SessionJsonl"/>): one session, one user's, or the whole store.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var session = new Option<string[]>("--session") { Description = "Export this session (repeat for several).", AllowMultipleArgumentsPerToken = true };
        var user = new Option<string?>("--user", "-u") { Description = "Export every session of this user." };
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file (replaced only once the export is complete); default: standard output." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress bar; one summary line at the end." };
        var c = new Command("export", "Export sessions as JSON Lines: per session a session line, its messages, its summaries (in session id order).");
        StoreOptions.AddTo(c);
        c.Options.Add(session);
        c.Options.Add(user);
        c.Options.Add(output);
        c.Options.Add(quiet);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            var ids = pr.GetValue(session) ?? [];
            var owner = pr.GetValue(user);
            if (ids.Length > 0 && owner is not null)
            {
                throw new CliUsageException("give --session or --user, not both.");
            }
            var file = pr.GetValue(output);
            await using var store = await StoreAccess.OpenAsync(StoreOptions.Spec(pr), StoreAccessMode.Read, ct, io);
            IReadOnlyList<string> chosen = ids.Length > 0 ? ids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList() : await SessionIds.ListAsync(store.Backend, owner, ct);
            var clock = Stopwatch.StartNew();
            var toStdout = file is null or "-";
            var target = toStdout ? null : file + ".partial";
            ExportResult result;
            await using (var writer = toStdout ? null : new StreamWriter(target!, append: false, new UTF8Encoding(false)))
            {
                var sink = writer ?? io.Out;
                result = await ProgressView.RunAsync(io, pr.GetValue(quiet), "export", "sessions", chosen.Count, tick => SessionExporter.ExportAsync(store.Backend, chosen, sink, tick, ct));
                await sink.FlushAsync(ct);
            }
            if (!toStdout)
            {
                File.Move(target!, file!, overwrite: true);
            }
            var report = toStdout ? io.Err : io.Out;
            await report.WriteLineAsync($"exported {result.Sessions:N0} session(s), {result.Messages:N0} message(s), {result.Summaries:N0} summar{(result.Summaries == 1 ? "y" : "ies")}{(toStdout ? string.Empty : $" to {file}")} in {clock.Elapsed.TotalSeconds:F1} s{Rate(result.Messages, clock.Elapsed)}");
            foreach (var missing in result.Missing)
            {
                await io.Err.WriteLineAsync($"lsmem: no session '{missing}'");
            }
            return result.Missing.Count == 0 ? ExitCodes.Ok : ExitCodes.Usage;
        });
        return c;
    }

    internal static string Rate(long items, TimeSpan elapsed) =>
        elapsed.TotalSeconds >= 0.05 && items > 0 ? $" ({items / elapsed.TotalSeconds:N0} messages/s)" : string.Empty;
}

/// <summary>What an export wrote.</summary>
internal sealed record ExportResult(int Sessions, long Messages, long Summaries, IReadOnlyList<string> Missing);

/// <summary>Writes sessions of a backend in the JSON Lines format.</summary>
internal static class SessionExporter
{
    /// <summary>Writes the sessions named, in the order given; ids with no session are listed as missing.</summary>
    public static async Task<ExportResult> ExportAsync(IMemoryBackend backend, IReadOnlyList<string> ids, TextWriter writer, ProgressTicker progress, CancellationToken cancellationToken)
    {
        int sessions = 0;
        long messages = 0, summaries = 0;
        var missing = new List<string>();
        foreach (var id in ids)
        {
            var record = await SessionTransfer.ReadAsync(backend, id, cancellationToken);
            if (record is null)
            {
                missing.Add(id);
            }
            else
            {
                await SessionJsonl.WriteAsync(writer, record, cancellationToken);
                sessions++;
                messages += record.Messages.Count;
                summaries += record.Summaries.Count;
            }
            progress.Advance();
        }
        return new ExportResult(sessions, messages, summaries, missing);
    }
}

/// <summary>Lists session ids of a store.</summary>
internal static class SessionIds
{
    /// <summary>Every session id (of one user when given), in ordinal order.</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(IMemoryBackend backend, string? userId, CancellationToken cancellationToken)
    {
        const int Page = 500;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var offset = 0; ; offset += Page)
        {
            var page = await backend.ListSessionsAsync(userId, null, Page, offset, cancellationToken);
            foreach (var s in page)
            {
                ids.Add(s.SessionId);
            }
            if (page.Count < Page)
            {
                break;
            }
        }
        return ids.Order(StringComparer.Ordinal).ToList();
    }
}
