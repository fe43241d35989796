using System.CommandLine;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem show SESSION</c>: a session as a readable transcript, or its raw messages as JSON.</summary>
internal static class ShowCommand
{
    public static Command Create()
    {
        var session = new Argument<string>("session") { Description = "The session id." };
        var json = new Option<bool>("--json") { Description = "Print the raw messages as a JSON array (the export format's message objects)." };
        var tail = new Option<int?>("--tail", "-n") { Description = "Only the newest N messages (after the other filters)." };
        var since = new Option<string?>("--since") { Description = "Only messages at or after this time: ISO 8601 (UTC unless a zone is given) or an age such as 30m, 2h, 7d." };
        var role = new Option<string[]>("--role", "-r") { Description = "Only these roles (system, user, assistant, tool, function); repeat or separate with commas.", AllowMultipleArgumentsPerToken = true };
        role.CompletionSources.Add("system", "user", "assistant", "tool", "function");
        var c = new Command("show", "Show a session as a transcript: role, time, content, tool calls and results, summaries where they sit.");
        c.Arguments.Add(session);
        StoreOptions.AddTo(c);
        c.Options.Add(json);
        c.Options.Add(tail);
        c.Options.Add(since);
        c.Options.Add(role);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            var id = pr.GetValue(session)!;
            var n = pr.GetValue(tail);
            if (n is < 0)
            {
                throw new CliUsageException("--tail must be zero or more.");
            }
            var roles = ParseRoles(pr.GetValue(role));
            var from = TimeArg.Parse(pr.GetValue(since));
            await using var store = await StoreAccess.OpenAsync(StoreOptions.Spec(pr), StoreAccessMode.Read, ct, io);
            var s = await store.Backend.GetSessionAsync(id, ct) ?? throw new SessionNotFoundException(id);
            var messages = await s.GetMessagesAsync(n, from, roles, ct);
            if (pr.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var m in messages)
                {
                    array.Add(JsonNode.Parse(SessionJsonl.MessageLine(m)));
                }
                await io.Out.WriteLineAsync(CliCommands.Json(array));
                return ExitCodes.Ok;
            }
            var summaries = await s.GetSummariesAsync(ct);
            var writer = io.OutIsTerminal ? TranscriptWriter.Styled(io.StyledOut()) : TranscriptWriter.Plain(io.Out);
            new TranscriptRenderer(writer).Render(s.Metadata, messages, summaries, filtered: n is not null || from is not null || roles is not null);
            await io.Out.FlushAsync(ct);
            return ExitCodes.Ok;
        });
        return c;
    }

    internal static IReadOnlyCollection<MessageRole>? ParseRoles(string[]? values)
    {
        if (values is null || values.Length == 0)
        {
            return null;
        }
        var roles = new HashSet<MessageRole>();
        foreach (var name in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!MessageRoles.TryParse(name, out var r))
            {
                throw new CliUsageException($"--role '{name}' is not a role. Valid: system, user, assistant, tool, function.");
            }
            roles.Add(r);
        }
        return roles;
    }
}
