using Microsoft.ML.Tokenizers;

namespace LangSwarm.Memory;

/// <summary>
/// The default token counter: OpenAI's <c>o200k_base</c> encoding (GPT-4o family) through Microsoft.ML.Tokenizers.
/// Per message it adds the chat framing OpenAI documents (about 4 tokens) and the JSON of calls.
/// </summary>
public sealed class TiktokenCounter : ITokenCounter
{
    /// <summary>Tokens of chat framing per message (role, separators).</summary>
    public const int MessageOverhead = 4;

    private static readonly Lazy<TiktokenCounter> LazyDefault = new(() => new TiktokenCounter(TiktokenTokenizer.CreateForModel("gpt-4o")));
    private readonly Tokenizer _tokenizer;

    /// <summary>Wraps any Microsoft.ML.Tokenizers tokenizer.</summary>
    public TiktokenCounter(Tokenizer tokenizer)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
    }

    /// <summary>The shared o200k_base counter (loaded once, thread-safe).</summary>
    public static TiktokenCounter Default => LazyDefault.Value;

    /// <inheritdoc />
    public int CountTokens(string text) => string.IsNullOrEmpty(text) ? 0 : _tokenizer.CountTokens(text);

    /// <inheritdoc />
    public int CountMessageTokens(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var n = MessageOverhead + CountTokens(message.Content);
        if (message.ToolCalls is { Count: > 0 } calls)
        {
            n += CountTokens(JsonRead.Text(calls, "tool_calls"));
        }
        if (message.FunctionCall is { } fc)
        {
            n += CountTokens(JsonRead.Text(fc, "function_call"));
        }
        if (message.Name is { } name)
        {
            n += CountTokens(name);
        }
        return n;
    }
}
