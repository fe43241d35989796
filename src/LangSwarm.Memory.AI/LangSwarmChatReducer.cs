using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LangSwarm.Memory.AI;

/// <summary>
/// An <see cref="IChatReducer"/> on LangSwarm's token counter and summarizer: a message list that fits
/// <see cref="MaxTokens"/> comes back unchanged; a longer one becomes the system messages that fit (newest
/// first), a summary of the conversation left out (a system message, when a summarizer is given), and the newest
/// messages that fit, never splitting an assistant's tool calls from their results. Tokens are counted as the
/// store counts them (<see cref="ITokenCounter.CountMessageTokens"/> of the stored form of each message).
/// </summary>
public sealed class LangSwarmChatReducer : IChatReducer
{
    /// <summary>The text the summary message starts with.</summary>
    public const string SummaryPrefix = "Summary of the earlier conversation: ";

    private readonly ITokenCounter _counter;
    private readonly ISummarizer? _summarizer;
    private readonly ILogger _logger;

    /// <summary>Creates a reducer to <paramref name="maxTokens"/> tokens.</summary>
    /// <param name="maxTokens">The budget of the reduced list.</param>
    /// <param name="tokenCounter">The counter (default: o200k_base, <see cref="TiktokenCounter.Default"/>).</param>
    /// <param name="summarizer">Summarizes what is left out (default: the extractive summarizer); null with <paramref name="summarize"/> false.</param>
    /// <param name="summarize">False: left-out messages are dropped without a summary.</param>
    /// <param name="logger">Logs each reduction (counts only).</param>
    public LangSwarmChatReducer(int maxTokens, ITokenCounter? tokenCounter = null, ISummarizer? summarizer = null, bool summarize = true, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        MaxTokens = maxTokens;
        _counter = tokenCounter ?? TiktokenCounter.Default;
        _summarizer = summarize ? summarizer ?? new ExtractiveSummarizer() : null;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The budget of a reduced list.</summary>
    public int MaxTokens { get; }

    /// <inheritdoc />
    public async Task<IEnumerable<ChatMessage>> ReduceAsync(IEnumerable<ChatMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages.ToList();
        var stored = list.Select(Stored).ToList();
        var tokens = stored.Select(s => s.Sum(m => _counter.CountMessageTokens(m))).ToList();
        if (tokens.Sum() <= MaxTokens)
        {
            return list;
        }
        var infos = list.Select((m, i) => new MessageInfo(i + 1, Role(m), tokens[i], default, m.Contents.Any(c => c is FunctionCallContent))).ToList();
        var (firstSystem, systemTokens) = ContextWindow.SelectSystem(infos, MaxTokens);
        var rest = infos.Where(i => i.Role != MessageRole.System).ToList();
        var budget = MaxTokens - systemTokens;
        var picked = ContextWindow.SelectNewest(rest, budget);
        ChatMessage? summary = null;
        for (var round = 0; _summarizer is not null && round < 2 && picked.Count < rest.Count; round++)
        {
            var leftOut = rest.Take(picked.Count == 0 ? rest.Count : picked[0]).SelectMany(i => stored[(int)i.Sequence - 1]).ToList();
            var text = await _summarizer.SummarizeAsync(leftOut, null, cancellationToken).ConfigureAwait(false);
            var summaryTokens = _counter.CountMessageTokens(new Message(MessageRole.System, SummaryPrefix + text));
            var window = picked.Sum(p => (long)rest[p].TokenCount);
            if (summaryTokens + window <= budget)
            {
                summary = new ChatMessage(ChatRole.System, SummaryPrefix + text);
                break;
            }
            // Make room for the summary, then summarize again what that left out too.
            picked = ContextWindow.SelectNewest(rest, budget - summaryTokens);
        }
        var result = new List<ChatMessage>();
        for (var i = 0; i < list.Count; i++)
        {
            if (infos[i].Role == MessageRole.System && firstSystem is { } first && infos[i].Sequence >= first)
            {
                result.Add(list[i]);
            }
        }
        if (summary is not null)
        {
            result.Add(summary);
        }
        result.AddRange(picked.Select(p => list[(int)rest[p].Sequence - 1]));
        MemoryLog.HistoryReduced(_logger, list.Count, result.Count, MaxTokens);
        return result;
    }

    /// <summary>A chat message as the store would keep it; one the store would refuse counts by its text.</summary>
    private static List<Message> Stored(ChatMessage m)
    {
        try
        {
            return ChatMessageConversion.FromChatMessage(m);
        }
        catch (InvalidMessageException)
        {
            return [new Message(Role(m), m.Text)];
        }
    }

    private static MessageRole Role(ChatMessage m) =>
        m.Role == ChatRole.System ? MessageRole.System
        : m.Role == ChatRole.Assistant ? MessageRole.Assistant
        : m.Role == ChatRole.Tool ? MessageRole.Tool
        : MessageRole.User;
}
