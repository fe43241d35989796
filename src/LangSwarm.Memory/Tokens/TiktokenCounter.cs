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
    /// <remarks>
    /// With a tiktoken tokenizer (the default) the time is linear in the text's length: a text is counted in
    /// segments cut where a piece always ends, so the count is exact, except inside a run of more than 256 UTF-8
    /// bytes with no space, punctuation or letter/digit change (a DNA read, a blob), which is cut into bounded
    /// pieces and may count a few tokens off. Other tokenizers count the whole text at once.
    /// </remarks>
    public int CountTokens(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }
        return _tokenizer is TiktokenTokenizer ? TiktokenChunker.CountTokens(_tokenizer, text) : _tokenizer.CountTokens(text);
    }

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
