using System.Buffers;
using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Text.Unicode;

namespace LangSwarm.Memory;

/// <summary>
/// OpenAI's o200k_base encoding (GPT-4o family), counted as Microsoft.ML.Tokenizers'
/// <c>TiktokenTokenizer.CreateForModel("gpt-4o")</c> counts, from a <see cref="BpeVocabulary"/> of a few MB
/// read from the same data package. The ML tokenizer keeps o200k as dictionaries of 200,000 arrays and
/// strings (about 40 MB of heap, held by a static cache for the process's life), more than a whole engine
/// process should use. Immutable once loaded: counting takes no lock and allocates nothing for pieces of up
/// to <see cref="StackChars"/> characters.
/// </summary>
/// <remarks>
/// The steps are the ML tokenizer's: the text is split at the special tokens <c>&lt;|endoftext|&gt;</c> and
/// <c>&lt;|endofprompt|&gt;</c>; each part between them is cut into pieces by the o200k pattern, matched on
/// that part alone; a piece whose text is a token is one token, any other is byte-pair merged from its UTF-8
/// bytes. A special token is one token, always. The ML tokenizer counts it so only while it is in its LRU
/// cache of 8192 pieces: once newer pieces have evicted it, it merges the text (7 tokens for
/// <c>&lt;|endoftext|&gt;</c>). Other <c>&lt;|…|&gt;</c> markers (<c>&lt;|im_start|&gt;</c>) are plain text
/// for both.
/// </remarks>
internal sealed partial class O200kTokenCounter : ISpanTokenCounter
{
    /// <summary>Rank of <c>&lt;|endoftext|&gt;</c> in o200k_base.</summary>
    public const int EndOfTextId = 199999;

    /// <summary>Rank of <c>&lt;|endofprompt|&gt;</c> in o200k_base.</summary>
    public const int EndOfPromptId = 200018;

    /// <summary>
    /// o200k_base's pre-tokenizer, character for character the pattern of Microsoft.ML.Tokenizers (and of
    /// tiktoken's <c>openai_public.py</c>), with the same options, so pieces end where theirs do.
    /// </summary>
    internal const string Pattern =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        + @"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        + @"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string EndOfText = "<|endoftext|>";
    private const string EndOfPrompt = "<|endofprompt|>";
    private const string DataAssembly = "Microsoft.ML.Tokenizers.Data.O200kBase";
    private const string DataResource = "o200k_base.tiktoken.deflate";

    /// <summary>Pieces up to this many characters are encoded and merged in stack buffers.</summary>
    private const int StackChars = 256;

    private readonly BpeVocabulary _vocabulary;

    internal O200kTokenCounter(BpeVocabulary vocabulary)
    {
        _vocabulary = vocabulary;
    }

    /// <summary>The vocabulary (for tests).</summary>
    internal BpeVocabulary Vocabulary => _vocabulary;

    /// <summary>
    /// Reads the vocabulary from the embedded resource of Microsoft.ML.Tokenizers.Data.O200kBase, decompressing
    /// as it parses (the 2.3 MB text is never whole in memory).
    /// </summary>
    public static O200kTokenCounter Load()
    {
        var assembly = Assembly.Load(new AssemblyName(DataAssembly));
        using var compressed = assembly.GetManifestResourceStream(DataResource)
            ?? throw new InvalidOperationException($"{DataAssembly} holds no resource {DataResource}.");
        using var text = new DeflateStream(compressed, CompressionMode.Decompress);
        return new O200kTokenCounter(BpeVocabulary.LoadTiktoken(text));
    }

    /// <inheritdoc />
    public int CountTokens(string text) => Encode(text, null);

    /// <inheritdoc />
    public int CountTokens(ReadOnlySpan<char> text) => Encode(text, null);

    /// <summary>The token ids of <paramref name="text"/> (for tests: the ids, not only the count, match).</summary>
    internal List<int> EncodeToIds(ReadOnlySpan<char> text)
    {
        var ids = new List<int>();
        Encode(text, ids);
        return ids;
    }

    [GeneratedRegex(Pattern, RegexOptions.None)]
    private static partial Regex Pieces();

    /// <summary>Counts the tokens of <paramref name="text"/>, adding their ids to <paramref name="ids"/> when given.</summary>
    private int Encode(ReadOnlySpan<char> text, List<int>? ids)
    {
        var count = 0;
        while (true)
        {
            var special = IndexOfSpecial(text, out var specialLength, out var specialId);
            // The pattern runs on the part before the special token alone: its look-ahead (\s+(?!\S)) sees the
            // part's end, not the '<', as the ML pre-tokenizer's matching on the slice does.
            var part = special < 0 ? text : text[..special];
            foreach (var match in Pieces().EnumerateMatches(part))
            {
                count += EncodePiece(part.Slice(match.Index, match.Length), ids);
            }
            if (special < 0)
            {
                return count;
            }
            count++;
            ids?.Add(specialId);
            text = text[(special + specialLength)..];
        }
    }

    /// <summary>Where the first special token starts, or -1.</summary>
    private static int IndexOfSpecial(ReadOnlySpan<char> text, out int length, out int id)
    {
        var from = 0;
        while (true)
        {
            var i = text[from..].IndexOf("<|endof");
            if (i < 0)
            {
                (length, id) = (0, -1);
                return -1;
            }
            i += from;
            var rest = text[i..];
            if (rest.StartsWith(EndOfText))
            {
                (length, id) = (EndOfText.Length, EndOfTextId);
                return i;
            }
            if (rest.StartsWith(EndOfPrompt))
            {
                (length, id) = (EndOfPrompt.Length, EndOfPromptId);
                return i;
            }
            from = i + 1;
        }
    }

    /// <summary>Tokens of one piece of the pattern.</summary>
    private int EncodePiece(ReadOnlySpan<char> piece, List<int>? ids)
    {
        byte[]? rented = null;
        var most = piece.Length * 3;
        // Sized to the piece: stack memory is zeroed, and most pieces are a word of a few bytes.
        var buffer = most <= StackChars * 3 ? stackalloc byte[most] : (rented = ArrayPool<byte>.Shared.Rent(most));
        try
        {
            var status = Utf8.FromUtf16(piece, buffer, out _, out var length, replaceInvalidSequences: false);
            if (status == OperationStatus.Done)
            {
                var bytes = buffer[..length];
                // A piece that is a token is one token. The ML tokenizer looks the piece's text up among the
                // tokens that decode to text without U+FFFD, so a piece holding U+FFFD is merged instead.
                var rank = _vocabulary.Rank(bytes);
                if (rank >= 0 && !piece.Contains('\uFFFD'))
                {
                    ids?.Add(rank);
                    return 1;
                }
                return Merge(bytes, ids);
            }
            // A lone surrogate: never a token's text; its bytes are those the ML tokenizer gives it.
            return Merge(buffer[..ToGeneralizedUtf8(piece, buffer)], ids);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// UTF-8 of text that may hold lone surrogates, each written as the 3 bytes of its code unit, as
    /// Microsoft.ML.Tokenizers encodes them (not as U+FFFD).
    /// </summary>
    private static int ToGeneralizedUtf8(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        var n = 0;
        for (var i = 0; i < text.Length; i++)
        {
            uint c = text[i];
            if (c < 0x80)
            {
                bytes[n++] = (byte)c;
            }
            else if (c < 0x800)
            {
                bytes[n++] = (byte)(0xC0 | (c >> 6));
                bytes[n++] = (byte)(0x80 | (c & 0x3F));
            }
            else if (char.IsHighSurrogate((char)c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var scalar = (uint)char.ConvertToUtf32((char)c, text[++i]);
                bytes[n++] = (byte)(0xF0 | (scalar >> 18));
                bytes[n++] = (byte)(0x80 | ((scalar >> 12) & 0x3F));
                bytes[n++] = (byte)(0x80 | ((scalar >> 6) & 0x3F));
                bytes[n++] = (byte)(0x80 | (scalar & 0x3F));
            }
            else
            {
                bytes[n++] = (byte)(0xE0 | (c >> 12));
                bytes[n++] = (byte)(0x80 | ((c >> 6) & 0x3F));
                bytes[n++] = (byte)(0x80 | (c & 0x3F));
            }
        }
        return n;
    }

    /// <summary>
    /// Byte-pair merge as tiktoken does it: start from single bytes and, while some adjacent pair of parts
    /// joins into a token, join the pair whose token has the lowest rank (the leftmost such pair on a tie).
    /// Quadratic in the piece's bytes, which <see cref="TiktokenChunker"/> keeps to a few hundred.
    /// </summary>
    private int Merge(ReadOnlySpan<byte> piece, List<int>? ids)
    {
        var n = piece.Length;
        if (n == 1)
        {
            ids?.Add(_vocabulary.Rank(piece)); // every byte is a token
            return 1;
        }
        int[]? rented = null;
        var need = 2 * (n + 1);
        var work = need <= 2 * ((StackChars * 3) + 1) ? stackalloc int[need] : (rented = ArrayPool<int>.Shared.Rent(need));
        // starts[i]: where part i begins (starts[parts - 1] == n ends the last); ranks[i]: the rank of parts i
        // and i + 1 joined, int.MaxValue when that is no token.
        var starts = work[..(n + 1)];
        var ranks = work.Slice(n + 1, n + 1);
        for (var i = 0; i <= n; i++)
        {
            starts[i] = i;
            ranks[i] = i + 2 <= n ? RankOrMax(piece.Slice(i, 2)) : int.MaxValue;
        }
        var parts = n + 1;
        while (true)
        {
            var best = -1;
            var min = int.MaxValue;
            for (var i = 0; i < parts - 1; i++)
            {
                if (ranks[i] < min)
                {
                    min = ranks[i];
                    best = i;
                }
            }
            if (best < 0)
            {
                break;
            }
            starts[(best + 2)..parts].CopyTo(starts[(best + 1)..]);
            ranks[(best + 2)..parts].CopyTo(ranks[(best + 1)..]);
            parts--;
            ranks[best] = best + 2 < parts ? RankOrMax(piece[starts[best]..starts[best + 2]]) : int.MaxValue;
            if (best > 0)
            {
                ranks[best - 1] = RankOrMax(piece[starts[best - 1]..starts[best + 1]]);
            }
        }
        if (ids is not null)
        {
            for (var i = 0; i < parts - 1; i++)
            {
                ids.Add(_vocabulary.Rank(piece[starts[i]..starts[i + 1]]));
            }
        }
        if (rented is not null)
        {
            ArrayPool<int>.Shared.Return(rented);
        }
        return parts - 1;
    }

    private int RankOrMax(ReadOnlySpan<byte> bytes)
    {
        var rank = _vocabulary.Rank(bytes);
        return rank < 0 ? int.MaxValue : rank;
    }
}
