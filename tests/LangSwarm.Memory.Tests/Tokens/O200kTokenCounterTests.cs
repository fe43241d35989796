using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.ML.Tokenizers;
using Xunit;
using Xunit.Abstractions;

namespace LangSwarm.Memory.Tests.Tokens;

/// <summary>
/// The compact o200k counter behind <see cref="TiktokenCounter.Default"/> counts exactly as Microsoft.ML.Tokenizers'
/// o200k tokenizer (the default before it), through the same chunker, and holds its vocabulary in a few MB.
/// </summary>
public sealed class O200kTokenCounterTests(ITestOutputHelper output)
{
    private static readonly O200kTokenCounter Compact = O200kTokenCounter.Load();

    /// <summary>
    /// The reference, shared. Its piece cache is an LRU of 8192 entries that also holds the special tokens, so
    /// after enough distinct pieces it evicts them and counts <c>&lt;|endoftext|&gt;</c> as 7 tokens rather than
    /// 1: a text holding a special token is counted by a fresh instance (<see cref="Fresh"/>).
    /// </summary>
    private static readonly TiktokenTokenizer Shared = TiktokenTokenizer.CreateForModel("gpt-4o");

    private static Tokenizer Fresh(string text) => text.Contains("<|endof", StringComparison.Ordinal) ? TiktokenTokenizer.CreateForModel("gpt-4o") : Shared;

    /// <summary>Today's count of a message: the ML tokenizer through the chunker.</summary>
    private static int Reference(string text) => TiktokenChunker.CountTokens(new TokenizerSpanCounter(Fresh(text)), text);

    private static int Counted(string text) => TiktokenChunker.CountTokens(Compact, text);

    /// <summary>Fragments of every class the o200k pattern tells apart.</summary>
    private static readonly string[] Atoms =
    [
        // ASCII letters, case runs, contractions in both cases, apostrophes that start none.
        "a", "Z", "the", "The", "THE", "camelCase", "HTTPServer", "iPhone", "x", "don't", "DON'T", "it's", "IT'S",
        "we're", "WE'RE", "I've", "I'VE", "I'm", "I'M", "you'll", "YOU'LL", "he'd", "HE'D", "'s", "'S", "'t",
        "'re", "'ll", "'d", "'m", "'ve", "'x", "''", "rock'n'roll", "O'Neil",
        // Digits: runs split in threes; other numbers.
        "0", "7", "42", "123", "1234", "12345678901234567890", "3.14159", "1,000,000", "0x1F", "١٢٣", "²", "½", "Ⅻ", "٣",
        // Whitespace of every kind.
        " ", "  ", "    ", "\t", "\n", "\r\n", "\r", "\n\n", " \n", "\t\n ", "\u00A0", "\u2028", "\u3000", "\v", "\f", "\u0085",
        // Punctuation and symbols, slashes and newlines after them.
        ".", ",", "!", "?", "...", "--", "/", "//", "./", "\\", "(", ")", "{", "}", "[", "]", "\"", "'", "`", "<", ">", "|", "_",
        "#", "$", "%", "&", "*", "+", "=", "~", "^", "@", ":", ";", "€", "©", "→", "∑", "\u0000", "\u001B",
        // Letters of other scripts: accents, titlecase (Lt), modifier (Lm), other (Lo), marks (M).
        "é", "É", "naïve", "Straße", "ǅ", "ǈ", "ʰ", "ʼ", "e\u0301", "E\u0301", "\u0301", "\u20DD", "ñ", "Ωμέγα", "Привет", "МИР",
        "日本語", "中文，", "。", "한국어", "ひらがな", "カタカナ", "مرحبا", "العربية", "हिन्दी", "नमस्ते", "क्षि", "\u0903", "ไทย", "עברית",
        // Emoji: plain, skin tones, ZWJ sequences, flags, keycaps, variation selectors; math letters (surrogates).
        "😀", "👍🏽", "👩\u200D💻", "👨\u200D👩\u200D👧\u200D👦", "🏳️\u200D🌈", "🇫🇷", "1️⃣", "❤️", "\uFE0F", "\u200D", "𝐀𝐁", "𝔘𝔫𝔦",
        // Surrogate edge cases: lone high, lone low, reversed pair; the replacement character.
        "\uD83D", "\uDE00", "\uDE00\uD83D", "\uFFFD", "a\uFFFDb",
        // Special tokens and look-alikes.
        "<|endoftext|>", "<|endofprompt|>", "<|im_start|>", "<|im_end|>", "<|endof", "<|endoftext", "endoftext|>", "<|fim_prefix|>",
        // Code and data.
        "public static void Main(string[] args) {", "=>", "!=", "==", "&&", "x += 1;", "{\"a\":1,\"b\":[true,null]}",
        "https://example.com/a/b?c=d&e=f", "foo_bar", "__init__", "#include <stdio.h>", "SELECT * FROM t;", "ACGTTGCA",
    ];

    private static string Concat(Random rnd, int atoms)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < atoms; i++)
        {
            sb.Append(Atoms[rnd.Next(Atoms.Length)]);
            if (rnd.Next(4) == 0)
            {
                sb.Append(' ');
            }
        }
        return sb.ToString();
    }

    private static readonly string Prose = """
        It was the best of times, it was the worst of times; it was the age of wisdom, it was the age of foolishness.
        "We'll see," she said. "They've promised, and I'd rather believe them than not — wouldn't you?"
        The committee's 2023 report (pp. 114–127) lists 1,254 cases; 37.5% of them weren't resolved until Q3.
          Indented line with trailing spaces   
        	Tabbed line.

        Last paragraph after a blank line!!!   ...and an ellipsis…
        """;

    private static readonly string Code = """
        using System;
        namespace Demo
        {
            public static class Program
            {
                // Entry point: reads args, prints a greeting.
                public static int Main(string[] args)
                {
                    var name = args.Length > 0 ? args[0] : "world";
                    Console.WriteLine($"Hello, {name}! 0x{name.Length:X4}");
                    for (var i = 0; i < 10; i++) { total += items[i].Price * 1.2m; }
                    return name.GetHashCode() & 0x7FFFFFFF;
                }
            }
        }
        def f(x):\n\treturn x ** 2  # python\r\n
        """;

    private static readonly string Json = """{"id":12345678901,"name":"Ünïcødé \"quoted\"","tags":["a","b"],"nested":{"ok":true,"n":null,"pi":3.14159265358979},"path":"C:\\dir\\file.txt","url":"https://x.y/z?q=1&r=2"}""";

    private static IEnumerable<string> Corpus()
    {
        yield return Prose;
        yield return Code;
        yield return Json;
        yield return "我们今天讨论了项目的进展，大家都同意下周完成测试。然后开始部署到生产环境！日本語のテキストも少し。";
        yield return "مرحبا بالعالم! هذا نص عربي مع أرقام ١٢٣٤٥ و 67890.";
        yield return "हिन्दी में लिखा गया पाठ, मात्राओं और संयुक्ताक्षरों (क्ष, त्र, ज्ञ) के साथ।";
        yield return "Emoji: 😀😃😄 👍🏻👍🏼👍🏽👍🏾👍🏿 👩‍💻👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇩🇪 1️⃣ ❤️‍🔥";
        yield return "Digits 1 12 123 1234 12345 123456 1234567 3141592653589793238462643383279 and 1e-10.";
        yield return "Whitespace   runs\t\t\tand\n\n\n  newlines \r\n\r\n  \t \n end   ";
        yield return "   leading and trailing   ";
        yield return "\n";
        yield return " ";
        yield return "<|endoftext|>";
        yield return "<|endofprompt|>";
        yield return "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|><|endoftext|>";
        yield return "x  <|endoftext|>  y<|endofprompt|>\n<|endof<|endoftext|>|>";
        yield return "Lone \uD83D high, lone \uDE00 low, reversed \uDE00\uD83D, replacement \uFFFD\uFFFD.";
        yield return "DON'T WON'T I'LL YOU'RE WE'VE I'M HE'D it's IT'S They'Re";
        yield return new string('a', 300) + " " + new string('€', 200) + " " + string.Concat(Enumerable.Repeat("😀", 100));
        yield return string.Concat(Enumerable.Repeat("ACGT", 2_000));
        yield return new string(' ', 1_000) + "x" + new string('\n', 500);
        var rnd = new Random(11);
        for (var i = 0; i < 120; i++)
        {
            yield return Concat(rnd, rnd.Next(1, i < 100 ? 60 : 3_000));
        }
        yield return string.Concat(Enumerable.Repeat(Prose + Code + Json, 20));
    }

    [Fact]
    public void Corpus_CountsAsTheMlTokenizer()
    {
        var n = 0;
        foreach (var text in Corpus())
        {
            Assert.True(Reference(text) == Counted(text), $"chunked count differs on: {Show(text)}");
            if (text.Length <= 4_000)
            {
                // Without the chunker too: every piece as one, long ones included.
                var ml = Fresh(text);
                Assert.True(ml.CountTokens(text) == Compact.CountTokens(text), $"whole count differs on: {Show(text)}");
            }
            n++;
        }
        output.WriteLine($"{n} texts");
    }

    [Fact]
    public void Corpus_EncodesToTheSameIds()
    {
        foreach (var text in Corpus().Where(t => t.Length <= 4_000))
        {
            Assert.Equal(Fresh(text).EncodeToIds(text), Compact.EncodeToIds(text));
        }
    }

    [Theory]
    [InlineData("<|endoftext|>", 1)]
    [InlineData("<|endofprompt|>", 1)]
    [InlineData("a<|endoftext|>b", 3)]
    [InlineData("<|im_start|>", 6)]
    [InlineData("Hello, world!", 4)]
    public void SpecialTokens_CountAsAFreshMlTokenizerDoes(string text, int expected)
    {
        Assert.Equal(expected, TiktokenTokenizer.CreateForModel("gpt-4o").CountTokens(text));
        Assert.Equal(expected, Compact.CountTokens(text));
    }

    [Fact]
    public void RandomStrings_CountAsTheMlTokenizer()
    {
        // Atoms repeated up to 40 times make long runs (forced cuts of the chunker, long pieces).
        var repeats = Gen.Choose(1, 200).Select(k => k <= 160 ? 1 : k - 160);
        var atom = Gen.Elements(Atoms).SelectMany(a => repeats.Select(k => string.Concat(Enumerable.Repeat(a, k))));
        var text = atom.ArrayOf().Select(string.Concat);
        var prop = Prop.ForAll(text.ToArbitrary(), s =>
        {
            var ml = Fresh(s);
            var same = Reference(s) == Counted(s) && ml.CountTokens(s) == Compact.CountTokens(s);
            return same.Label(Show(s));
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(400), prop);
    }

    [Fact]
    public void Counting_FromManyThreads_GivesTheSameCounts()
    {
        var texts = Corpus().Take(60).ToArray();
        var expected = texts.Select(Counted).ToArray();
        Parallel.For(0, 8 * texts.Length, i => Assert.Equal(expected[i % texts.Length], Counted(texts[i % texts.Length])));
    }

    [Fact]
    public void TheVocabulary_HoldsEveryToken()
    {
        var vocabulary = Compact.Vocabulary;
        Assert.Equal(199_998, vocabulary.Count);
        for (var rank = 0; rank < vocabulary.Count; rank++)
        {
            Assert.Equal(rank, vocabulary.Rank(vocabulary.Token(rank)));
        }
        Assert.Equal(-1, vocabulary.Rank("<|endoftext|>"u8));
        Assert.Equal(-1, vocabulary.Rank([]));
    }

    [Fact]
    public void Loading_AllocatesAndKeepsAFewMegabytes()
    {
        // Bytes allocated by this thread: other tests running beside this one do not count, so the figure is
        // deterministic. It bounds what the counter keeps (its arrays) plus the load's transient buffers.
        O200kTokenCounter.Load(); // the data assembly loaded, the generated regex's statics initialized
        var before = GC.GetAllocatedBytesForCurrentThread();
        var counter = O200kTokenCounter.Load();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"load allocated {allocated / 1e6:F2} MB, keeps {counter.Vocabulary.ManagedBytes / 1e6:F2} MB");
        Assert.InRange(counter.Vocabulary.ManagedBytes, 1, 6_000_000);
        Assert.InRange(allocated, 1, 8_000_000);
        Assert.Equal(4, counter.CountTokens("Hello, world!"));
    }

    private static string Show(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text.Length > 300 ? text[..300] : text)
        {
            sb.Append(c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString());
        }
        return sb.ToString();
    }
}
