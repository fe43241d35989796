using System.CommandLine;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem sessions</c>: sessions, newest activity first, filtered and paged.</summary>
internal static class SessionsCommand
{
    public static Command Create()
    {
        var user = new Option<string?>("--user", "-u") { Description = "Only this user's sessions." };
        var status = new Option<SessionStatus?>("--status") { Description = "Only sessions in this state (active, archived, expired)." };
        var since = new Option<string?>("--since") { Description = "Only sessions active at or after this time: ISO 8601 or an age such as 30m, 2h, 7d." };
        var limit = new Option<int>("--limit", "-n") { Description = "Sessions per page.", DefaultValueFactory = _ => 20 };
        var offset = new Option<int>("--offset") { Description = "Sessions skipped (the page start).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the page as JSON." };
        var c = new Command("sessions", "List sessions, newest activity first; filter by user, status and activity time, page with --limit/--offset.");
        StoreOptions.AddTo(c);
        foreach (var o in new Option[] { user, status, since, limit, offset, json })
        {
            c.Options.Add(o);
        }
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            var (n, skip) = (pr.GetValue(limit), pr.GetValue(offset));
            if (n <= 0 || skip < 0)
            {
                throw new CliUsageException("--limit must be positive and --offset zero or more.");
            }
            var from = TimeArg.Parse(pr.GetValue(since));
            await using var store = await StoreAccess.OpenAsync(StoreOptions.Spec(pr), StoreAccessMode.Read, ct, io);
            // One more than the page tells whether another page follows. Newest activity comes first, so the
            // sessions active since a time are a prefix of the listing and the offset counts within it.
            var list = await store.Backend.ListSessionsAsync(pr.GetValue(user), pr.GetValue(status), n + 1, skip, ct);
            var page = list.TakeWhile(s => from is null || s.UpdatedAt >= from).ToList();
            var more = page.Count > n;
            if (more)
            {
                page.RemoveAt(n);
            }
            if (pr.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var s in page)
                {
                    array.Add(new JsonObject
                    {
                        ["session_id"] = s.SessionId,
                        ["user_id"] = s.UserId,
                        ["status"] = SessionJsonl.StatusName(s.Status),
                        ["created_at"] = SessionJsonl.Time(s.CreatedAt),
                        ["updated_at"] = SessionJsonl.Time(s.UpdatedAt),
                    });
                }
                await io.Out.WriteLineAsync(CliCommands.Json(new JsonObject { ["offset"] = skip, ["sessions"] = array, ["next_offset"] = more ? skip + n : null }));
                return ExitCodes.Ok;
            }
            foreach (var s in page)
            {
                await io.Out.WriteLineAsync($"{TranscriptRenderer.Time(s.UpdatedAt)}  {SessionJsonl.StatusName(s.Status),-8}  {s.UserId ?? "-",-16}  {s.SessionId}");
            }
            var range = page.Count == 0 ? "no sessions" : $"sessions {skip + 1}–{skip + page.Count}";
            await io.Out.WriteLineAsync(more ? $"{range}; next page: --offset {skip + n}" : range);
            return ExitCodes.Ok;
        });
        return c;
    }
}
