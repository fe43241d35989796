using System.Globalization;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory.Cli;

/// <summary>
/// Lays a session out as a transcript: a header line, then each message (sequence, time, role, content, its tool
/// calls or the call it answers), with each summary placed after the last message it covers.
/// </summary>
internal sealed class TranscriptRenderer(TranscriptWriter writer)
{
    private const string Indent = "    ";

    /// <summary>Renders the messages (oldest first) and the summaries that sit among them.</summary>
    /// <param name="metadata">The session.</param>
    /// <param name="messages">The messages shown.</param>
    /// <param name="summaries">Every summary of the session, oldest first.</param>
    /// <param name="filtered">True when a filter left messages out (then only the newest summary before the first shown message is shown).</param>
    public void Render(SessionMetadata metadata, IReadOnlyList<Message> messages, IReadOnlyList<ConversationSummary> summaries, bool filtered)
    {
        Header(metadata, messages.Count, summaries.Count, filtered);
        var first = messages.Count > 0 ? messages[0].Sequence : long.MaxValue;
        var before = summaries.Where(s => s.LastSequence < first).ToList();
        foreach (var s in filtered && before.Count > 0 ? [before[^1]] : before)
        {
            Summary(s, summaries);
        }
        var pending = new Queue<ConversationSummary>(summaries.Where(s => s.LastSequence >= first).OrderBy(s => s.LastSequence));
        for (var i = 0; i < messages.Count; i++)
        {
            Message(messages[i]);
            var next = i + 1 < messages.Count ? messages[i + 1].Sequence : long.MaxValue;
            while (pending.Count > 0 && pending.Peek().LastSequence < next)
            {
                Summary(pending.Dequeue(), summaries);
            }
        }
    }

    private void Header(SessionMetadata m, int shown, int summaries, bool filtered)
    {
        writer.Write($"session {m.SessionId}", TranscriptStyle.Header);
        writer.Write($" · user {m.UserId ?? "-"} · {SessionJsonl.StatusName(m.Status)} · {shown} message{(shown == 1 ? string.Empty : "s")}{(filtered ? " shown" : string.Empty)} · {summaries} summar{(summaries == 1 ? "y" : "ies")}", TranscriptStyle.Dim);
        writer.EndLine();
        writer.Write($"created {Time(m.CreatedAt)} · last activity {Time(m.UpdatedAt)}", TranscriptStyle.Dim);
        writer.EndLine();
    }

    private void Message(Message m)
    {
        writer.EndLine();
        writer.Write($"#{m.Sequence}  {Time(m.Timestamp)}  ", TranscriptStyle.Dim);
        writer.Write(m.Role.ToWireName(), RoleStyle(m.Role));
        if (m.Name is { } name)
        {
            writer.Write($" ({name})", TranscriptStyle.Dim);
        }
        if (m.ToolCallId is { } answers)
        {
            writer.Write($"  ← {answers}", TranscriptStyle.Call);
        }
        writer.EndLine();
        if (m.Content.Length > 0)
        {
            Lines(m.Content, TranscriptStyle.Plain);
        }
        foreach (var call in m.ToolCalls ?? [])
        {
            var fn = call?["function"];
            writer.Write($"{Indent}→ {Text(fn?["name"])}({Text(fn?["arguments"])})", TranscriptStyle.Call);
            writer.Write($"  {Text(call?["id"])}", TranscriptStyle.Dim);
            writer.EndLine();
        }
        if (m.FunctionCall is { } f)
        {
            writer.Write($"{Indent}→ {Text(f["name"])}({Text(f["arguments"])})", TranscriptStyle.Call);
            writer.EndLine();
        }
    }

    private void Summary(ConversationSummary s, IReadOnlyList<ConversationSummary> all)
    {
        var number = 1;
        for (var i = 0; i < all.Count && !ReferenceEquals(all[i], s); i++)
        {
            number++;
        }
        writer.EndLine();
        writer.Write($"── summary #{number} of messages {s.FirstSequence}–{s.LastSequence} ({s.MessageCount} messages, {SessionJsonl.TypeName(s.SummaryType)}, {Time(s.CreatedAt)}) ──", TranscriptStyle.Summary);
        writer.EndLine();
        Lines(s.SummaryText, TranscriptStyle.Summary);
    }

    private void Lines(string text, TranscriptStyle style)
    {
        foreach (var line in text.Split('\n'))
        {
            writer.Write(Indent + line.TrimEnd('\r'), style);
            writer.EndLine();
        }
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => string.Empty,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    private static TranscriptStyle RoleStyle(MessageRole role) => role switch
    {
        MessageRole.System => TranscriptStyle.System,
        MessageRole.User => TranscriptStyle.User,
        MessageRole.Assistant => TranscriptStyle.Assistant,
        _ => TranscriptStyle.Tool,
    };

    internal static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
