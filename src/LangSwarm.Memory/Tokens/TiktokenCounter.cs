using Microsoft.ML.Tokenizers;

namespace LangSwarm.Memory;

/// <summary>
/// Counts tokens with a tiktoken encoding. <see cref="Default"/> is OpenAI's <c>o200k_base</c> (GPT-4o family),
/// counted by a compact built-in byte-pair encoder over the vocabulary of Microsoft.ML.Tokenizers.Data.O200kBase
/// (a few MB, where the Microsoft.ML.Tokenizers tokenizer holds about ten times that); the public constructor
/// wraps any Microsoft.ML.Tokenizers tokenizer. Per message it adds the chat framing OpenAI documents (about 4
/// tokens) and the JSON of calls.
/// </summary>
public sealed class TiktokenCounter : ITokenCounter
{
    /// <summary>Tokens of chat framing per message (role, separators).</summary>
    public const int MessageOverhead = 4;

    // Lazy's default mode runs the load once, whichever threads ask first.
    private static readonly Lazy<TiktokenCounter> LazyDefault = new(() => new TiktokenCounter(O200kTokenCounter.Load()));

    /// <summary>A tokenizer other than tiktoken, counted on the whole text; null when <see cref="_chunked"/> is set.</summary>
    private readonly Tokenizer? _tokenizer;

    /// <summary>A tiktoken tokenizer, counted in linear time through <see cref="TiktokenChunker"/>.</summary>
    private readonly ISpanTokenCounter? _chunked;

    /// <summary>Wraps any Microsoft.ML.Tokenizers tokenizer.</summary>
    public TiktokenCounter(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer is TiktokenTokenizer)
        {
            _chunked = new TokenizerSpanCounter(tokenizer);
        }
        else
        {
            _tokenizer = tokenizer;
        }
    }

    private TiktokenCounter(O200kTokenCounter counter)
    {
        _chunked = counter;
    }

    /// <summary>The shared o200k_base counter (loaded once, thread-safe).</summary>
    public static TiktokenCounter Default => LazyDefault.Value;

    /// <inheritdoc />
    /// <remarks>
    /// With a tiktoken tokenizer (the default's included) the time is linear in the text's length: a text is
    /// counted in segments cut where a piece always ends, so the count is exact, except inside a run of more than
    /// 256 UTF-8 bytes with no space, punctuation or letter/digit change (a DNA read, a blob), which is cut into
    /// bounded pieces and may count a few tokens off. Other tokenizers count the whole text at once.
    /// </remarks>
    public int CountTokens(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }
        return _chunked is not null ? TiktokenChunker.CountTokens(_chunked, text) : _tokenizer!.CountTokens(text);
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
