using Microsoft.ML.Tokenizers;

namespace LangSwarm.Memory;

/// <summary>
/// Counts the tokens of a whole text or of a slice of one: what <see cref="TiktokenChunker"/> calls for each
/// segment, so the chunker serves both a Microsoft.ML.Tokenizers tokenizer and <see cref="O200kTokenCounter"/>.
/// </summary>
internal interface ISpanTokenCounter
{
    /// <summary>Tokens of a whole text.</summary>
    int CountTokens(string text);

    /// <summary>Tokens of a slice, counted as if it were the whole text.</summary>
    int CountTokens(ReadOnlySpan<char> text);
}

/// <summary>A Microsoft.ML.Tokenizers tokenizer as an <see cref="ISpanTokenCounter"/>.</summary>
internal sealed class TokenizerSpanCounter(Tokenizer tokenizer) : ISpanTokenCounter
{
    /// <inheritdoc />
    public int CountTokens(string text) => tokenizer.CountTokens(text);

    /// <inheritdoc />
    public int CountTokens(ReadOnlySpan<char> text) => tokenizer.CountTokens(text);
}
