using System.Text;

namespace LangSwarm.Memory;

/// <summary>
/// A deterministic summarizer that needs no network: it scores the sentences of the conversation by the
/// frequency of their content words and keeps the best ones in their original order, with a line of who
/// said how much and which tools were called. Same input, same summary.
/// </summary>
public sealed class ExtractiveSummarizer : ISummarizer
{
    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "the", "a", "an", "and", "or", "but", "if", "then", "of", "to", "in", "on", "at", "for", "with", "is", "are",
        "was", "were", "be", "been", "it", "this", "that", "i", "you", "we", "they", "he", "she", "me", "my", "your",
        "our", "do", "does", "did", "can", "could", "would", "should", "will", "what", "how", "so", "as", "by", "from",
        "not", "no", "yes", "please", "thanks", "thank", "hi", "hello", "there", "here", "about", "have", "has", "had",
    };

    /// <summary>Creates the summarizer.</summary>
    /// <param name="maxSentences">Most sentences kept.</param>
    /// <param name="maxChars">Most characters of the summary text.</param>
    public ExtractiveSummarizer(int maxSentences = 5, int maxChars = 1200)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSentences);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, 80);
        MaxSentences = maxSentences;
        MaxChars = maxChars;
    }

    /// <summary>Most sentences kept.</summary>
    public int MaxSentences { get; }

    /// <summary>Most characters of the summary text.</summary>
    public int MaxChars { get; }

    /// <inheritdoc />
    public Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Summarize(messages, previousSummary));
    }

    private string Summarize(IReadOnlyList<Message> messages, string? previousSummary)
    {
        int users = 0, assistants = 0, tools = 0;
        var toolNames = new SortedSet<string>(StringComparer.Ordinal);
        var sentences = new List<(string Text, MessageRole Role, int Order)>();
        foreach (var m in messages)
        {
            switch (m.Role)
            {
                case MessageRole.User: users++; break;
                case MessageRole.Assistant: assistants++; break;
                case MessageRole.Tool or MessageRole.Function: tools++; break;
            }
            // Calls are read without trusting their shape: a call that is not the documented object simply
            // names no tool (stored calls are checked on add, but a summarizer also sees callers' messages).
            if (m.ToolCalls is { } calls)
            {
                foreach (var c in calls)
                {
                    if (JsonRead.String(JsonRead.Member(JsonRead.Member(c, "function"), "name")) is { } n)
                    {
                        toolNames.Add(n);
                    }
                }
            }
            if (JsonRead.String(JsonRead.Member(m.FunctionCall, "name")) is { } fn)
            {
                toolNames.Add(fn);
            }
            if (m.Role is MessageRole.User or MessageRole.Assistant)
            {
                foreach (var s in SplitSentences(m.Content))
                {
                    sentences.Add((s, m.Role, sentences.Count));
                }
            }
        }

        var freq = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (text, _, _) in sentences)
        {
            foreach (var w in Words(text))
            {
                freq[w] = freq.GetValueOrDefault(w) + 1;
            }
        }
        var scored = new List<(double Score, int Order, string Text, MessageRole Role)>(sentences.Count);
        foreach (var (text, role, order) in sentences)
        {
            double score = 0;
            var n = 0;
            foreach (var w in Words(text))
            {
                score += freq[w];
                n++;
            }
            scored.Add((n == 0 ? 0 : score / Math.Sqrt(n), order, text, role));
        }
        scored.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Order.CompareTo(b.Order));
        var keep = scored.Take(MaxSentences).OrderBy(s => s.Order).ToList();

        var sb = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(previousSummary))
        {
            sb.Append("Earlier: ").Append(Truncate(previousSummary.Trim(), MaxChars / 3)).Append(' ');
        }
        sb.Append($"{messages.Count} messages ({users} user, {assistants} assistant, {tools} tool results)");
        if (toolNames.Count > 0)
        {
            sb.Append("; tools used: ").Append(string.Join(", ", toolNames));
        }
        sb.Append('.');
        foreach (var (_, _, text, role) in keep)
        {
            var line = $" {(role == MessageRole.User ? "User" : "Assistant")}: {text}";
            if (sb.Length + line.Length > MaxChars)
            {
                break;
            }
            sb.Append(line);
        }
        return Truncate(sb.ToString(), MaxChars);
    }

    private static IEnumerable<string> SplitSentences(string text)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '.' or '!' or '?' or '\n')
            {
                var s = text[start..(i + 1)].Trim();
                if (s.Length > 2)
                {
                    yield return s;
                }
                start = i + 1;
            }
        }
        var tail = text[start..].Trim();
        if (tail.Length > 2)
        {
            yield return tail;
        }
    }

    private static IEnumerable<string> Words(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var letter = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (letter && start < 0)
            {
                start = i;
            }
            else if (!letter && start >= 0)
            {
                var w = text[start..i];
                start = -1;
                if (w.Length > 2 && !StopWords.Contains(w))
                {
                    yield return w.ToLowerInvariant();
                }
            }
        }
    }

    private static string Truncate(string s, int max)
    {
        if (s.Length <= max)
        {
            return s;
        }
        var cut = max - 3;
        if (cut > 0 && char.IsHighSurrogate(s[cut - 1]))
        {
            cut--;
        }
        return s[..cut] + "...";
    }
}
