namespace LangSwarm.Memory;

/// <summary>
/// Counts a long text with a tiktoken tokenizer (Microsoft.ML.Tokenizers' or <see cref="O200kTokenCounter"/>)
/// in time linear in its length. Byte-pair encoding is quadratic in the bytes of one pre-tokenized piece, and a
/// run of letters with no space or punctuation (a DNA read, a base64 blob, 64 Ki of '€') is one piece:
/// 1,000,000 letters took minutes. So the text is counted in segments cut where the tiktoken pre-tokenizers
/// (cl100k, o200k) always end a piece (<see cref="IsExactCut"/>), which keeps the count exact; only a run of
/// more than <see cref="MaxRunBytes"/> UTF-8 bytes with no such place is cut inside, where the count may differ
/// from the exact one by a few tokens.
/// </summary>
internal static class TiktokenChunker
{
    /// <summary>
    /// Longest run, in UTF-8 bytes (256 ASCII letters, 85 CJK characters or '€', 64 emoji), counted as one piece.
    /// Byte-pair merging is quadratic in a piece's bytes: cutting runs shorter than this saves little, while past
    /// it the cost per character of a run rises steeply.
    /// 256 keeps CJK clauses of up to 85 characters without punctuation exact.
    /// </summary>
    public const int MaxRunBytes = 256;

    /// <summary>Characters per tokenizer call, cut at an exact place (fewer calls; any length is exact).</summary>
    private const int Segment = 8 * 1024;

    /// <summary>The token count of <paramref name="text"/>: exact unless it holds a run longer than <see cref="MaxRunBytes"/>.</summary>
    public static int CountTokens(ISpanTokenCounter tokenizer, string text)
    {
        var span = text.AsSpan();
        if (text.Length <= MaxRunBytes / 3 || SpacedOften(span))
        {
            return tokenizer.CountTokens(text);
        }
        var total = 0;
        var start = 0;    // first character of the segment being built
        var runBytes = 0; // UTF-8 bytes since the last exact or forced cut
        for (var i = 1; i < span.Length; i++)
        {
            if (IsExactCut(span, i))
            {
                runBytes = 0;
                if (i - start >= Segment)
                {
                    total += tokenizer.CountTokens(span[start..i]);
                    start = i;
                }
            }
            else if ((runBytes += Utf8Width(span[i - 1])) >= MaxRunBytes && !(char.IsLowSurrogate(span[i]) && char.IsHighSurrogate(span[i - 1])))
            {
                // A run with no exact place: cut it here (never inside a surrogate pair) and count what came before.
                total += tokenizer.CountTokens(span[start..i]);
                start = i;
                runBytes = 0;
            }
        }
        return total + tokenizer.CountTokens(span[start..]);
    }

    /// <summary>
    /// True when a space follows a non-space at least every <see cref="MaxRunBytes"/> / 3 characters (prose): no
    /// piece can then be longer than that, and the whole text is counted at once. It jumps from cut to cut with
    /// one vectorized search per window, far cheaper than <see cref="IsExactCut"/> on every character.
    /// </summary>
    private static bool SpacedOften(ReadOnlySpan<char> text)
    {
        const int MaxGap = MaxRunBytes / 3;
        var lastCut = 0;
        while (text.Length - lastCut > MaxGap)
        {
            // The farthest space after a non-space within the next MaxGap characters.
            var window = text.Slice(lastCut + 1, MaxGap);
            var k = window.LastIndexOf(' ');
            while (k >= 0 && char.IsWhiteSpace(text[lastCut + k]))
            {
                k = window[..k].LastIndexOf(' ');
            }
            if (k < 0)
            {
                return false;
            }
            lastCut += 1 + k;
        }
        return true;
    }

    /// <summary>UTF-8 bytes of one UTF-16 unit (a surrogate pair's 4 bytes counted 2 + 2).</summary>
    private static int Utf8Width(char c) => c < 0x80 ? 1 : c < 0x800 || char.IsSurrogate(c) ? 2 : 3;

    /// <summary>
    /// True when a piece of the tiktoken pre-tokenizer always ends just before <paramref name="i"/>, and the text
    /// before it pre-tokenizes the same on its own (the patterns look behind nothing and ahead only over
    /// whitespace): before a space that follows a non-space (no pattern takes a space after a non-space); before
    /// a digit that follows a letter, or a letter that follows a digit; before punctuation that follows a letter
    /// or a digit (a letter piece ends there unless an apostrophe starts a contraction; a digit piece ends at any
    /// non-digit). Characters are classed by UTF-16 unit, as the .NET regex does (a surrogate is neither letter
    /// nor digit). <c>|</c> and <c>_</c> are left out so special tokens such as <c>&lt;|im_start|&gt;</c> are
    /// never split.
    /// </summary>
    internal static bool IsExactCut(ReadOnlySpan<char> text, int i)
    {
        var c = text[i];
        var before = text[i - 1];
        if (c == ' ')
        {
            return !char.IsWhiteSpace(before);
        }
        var afterLetter = char.IsLetter(before);
        var afterNumber = !afterLetter && char.IsNumber(before);
        if (!afterLetter && !afterNumber)
        {
            return false;
        }
        if (c < 128)
        {
            // ASCII, the common case: decided without a category lookup.
            if (char.IsAsciiDigit(c))
            {
                return afterLetter;
            }
            if (char.IsAsciiLetter(c))
            {
                return afterNumber;
            }
            return c is not ('\'' or '|' or '_' or '\t' or '\n' or '\v' or '\f' or '\r');
        }
        if (char.IsLetter(c))
        {
            return afterNumber;
        }
        if (char.IsNumber(c))
        {
            return afterLetter;
        }
        return !char.IsWhiteSpace(c) && char.GetUnicodeCategory(c) is not (System.Globalization.UnicodeCategory.NonSpacingMark
            or System.Globalization.UnicodeCategory.SpacingCombiningMark
            or System.Globalization.UnicodeCategory.EnclosingMark);
    }
}
