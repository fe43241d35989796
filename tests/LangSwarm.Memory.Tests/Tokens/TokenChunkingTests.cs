using System.Diagnostics;
using System.Text;
using Microsoft.ML.Tokenizers;
using Xunit;
using Xunit.Abstractions;

namespace LangSwarm.Memory.Tests.Tokens;

/// <summary>
/// Token counting is linear with a bounded worst case (a long run of letters took minutes: BPE is quadratic in one
/// piece), and counts normal text exactly as the tokenizer does on the whole text. The timing tests run alone
/// (<see cref="TimingCollection"/>), not beside the rest of the suite.
/// </summary>
[Collection(nameof(TimingCollection))]
public sealed class TokenChunkingTests(ITestOutputHelper output)
{
    private static readonly Tokenizer Raw = TiktokenTokenizer.CreateForModel("gpt-4o");

    private static readonly string[] Vocabulary =
    [
        "the", "The", "quick", "don't", "I'M", "it's", "they'll", "naïve", "café", "über", "日本語のテキスト", "中文文本，",
        "。", "Привет", "мир", "١٢٣", "12345", "3.14159", "0x1F", "a1b2c3", "https://example.com/a/b?c=d&e=f", "foo_bar",
        "<|endoftext|>", "<|im_start|>", "😀", "👍🏽", "𝐀𝐁", "e\u0301", "\t", "\n", "\r\n", "  ", "   \n", "!!", "?!", "--",
        "...", "(x)", "[1,2]", "{\"a\":1}", "x²", "Ⅻ", "a'b", "l'homme", "\u00A0", "€", "$100", "ABCdef", "camelCase",
        "snake_case", "HTMLParser", "\u200D", "ß", "public static void Main(string[] args) {", "\"quoted\"", "#", "- [ ]",
        "ACGTACGTTGCA", "Straßenbahnhaltestelle", "Donaudampfschifffahrtsgesellschaftskapitän",
    ];

    private static string Mixed(Random rnd, int length)
    {
        var sb = new StringBuilder(length + 64);
        while (sb.Length < length)
        {
            sb.Append(Vocabulary[rnd.Next(Vocabulary.Length)]);
            if (rnd.Next(3) > 0)
            {
                sb.Append(rnd.Next(10) == 0 ? "\n" : " ");
            }
        }
        return sb.ToString();
    }

    private static string Dna(Random rnd, int length)
    {
        var c = new char[length];
        for (var i = 0; i < c.Length; i++)
        {
            c[i] = "ACGT"[rnd.Next(4)];
        }
        return new string(c);
    }

    [Fact]
    public void NormalText_CountsExactlyAsTheWholeText()
    {
        var rnd = new Random(3);
        for (var i = 0; i < 60; i++)
        {
            // Up to 30,000 characters: several segments, cut only where a piece always ends.
            var text = Mixed(rnd, rnd.Next(1, i < 50 ? 2_000 : 30_000));
            Assert.Equal(Raw.CountTokens(text), TiktokenCounter.Default.CountTokens(text));
        }
        var prose = string.Concat(Enumerable.Repeat("The report, dated 2024-05-01, says: \"It's fine.\" Next steps are listed below.\n", 400));
        var code = string.Concat(Enumerable.Repeat("for (var i = 0; i < items.Count; i++) { total += items[i].Price * 1.2m; }\r\n", 300));
        var json = string.Concat(Enumerable.Repeat("{\"id\":12345,\"name\":\"Ünïcødé\",\"tags\":[\"a\",\"b\"],\"ok\":true},", 300));
        var chinese = string.Concat(Enumerable.Repeat("我们今天讨论了项目的进展，大家都同意下周完成测试。然后开始部署到生产环境！", 200));
        foreach (var text in new[] { prose, code, json, chinese })
        {
            Assert.Equal(Raw.CountTokens(text), TiktokenCounter.Default.CountTokens(text));
        }
    }

    [Fact]
    public void EveryExactCut_LeavesTheCountUnchanged()
    {
        var rnd = new Random(7);
        for (var n = 0; n < 300; n++)
        {
            var text = Mixed(rnd, rnd.Next(1, 400));
            var sum = 0;
            var start = 0;
            for (var i = 1; i < text.Length; i++)
            {
                if (TiktokenChunker.IsExactCut(text, i))
                {
                    sum += Raw.CountTokens(text.AsSpan(start, i - start));
                    start = i;
                }
            }
            sum += Raw.CountTokens(text.AsSpan(start));
            Assert.True(Raw.CountTokens(text) == sum, $"cutting changed the count of: {text}");
        }
    }

    [Fact]
    public void ALongRun_CountsCloseToTheExactCount()
    {
        var text = Dna(new Random(1), 20_000);
        var exact = Raw.CountTokens(text);
        var chunked = TiktokenCounter.Default.CountTokens(text);
        // At most a token or so per forced cut (one every 256 bytes).
        Assert.InRange(chunked, exact - (text.Length / TiktokenChunker.MaxRunBytes) - 1, exact + (text.Length / TiktokenChunker.MaxRunBytes) + 1);
        output.WriteLine($"20,000 ACGT: exact {exact}, chunked {chunked}");
    }

    [Fact]
    public void SpecialTokens_AreNeverSplit()
    {
        var text = string.Concat(Enumerable.Repeat("<|im_start|>user<|endoftext|>", 50));
        Assert.Equal(Raw.CountTokens(text), TiktokenCounter.Default.CountTokens(text));
    }

    [Fact]
    public async Task AddingALongRunOfLetters_TakesTimeLinearInItsLength()
    {
        // Adds without a token count, on the in-memory backend: the add's time is the count's. On main a
        // 1,000,000-letter read did not return in 30 s (100,000 letters: 3.3 s; 64 Ki '€': 20.8 s).
        await using var backend = new InMemoryBackend();
        await backend.ConnectAsync();
        var session = await backend.CreateSessionAsync(new SessionMetadata("dna", "lab")
        {
            SummaryStrategy = SummaryStrategy.Manual,
            MaxMessages = int.MaxValue,
            MaxTokens = int.MaxValue,
        });
        var rnd = new Random(9);
        var small = Dna(rnd, 64 * 1024);
        var largest = Dna(rnd, MessageValidator.MaxContentLength);
        await session.AddMessageAsync(new Message(MessageRole.User, Dna(rnd, 4096))); // warm-up: tokenizer, JIT

        // Processor time, not wall time: a neighbour's load (another test process) does not count. 16 small adds
        // per sample make it long enough for the clock's resolution; interleaved, the least of each size is kept.
        var perCharSmall = double.MaxValue;
        var perCharLargest = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            perCharSmall = Math.Min(perCharSmall, await CpuSecondsAsync(small, 16) / (16.0 * small.Length));
            perCharLargest = Math.Min(perCharLargest, await CpuSecondsAsync(largest, 1) / largest.Length);
        }
        perCharSmall = Math.Min(perCharSmall, await CpuSecondsAsync(small, 16) / (16.0 * small.Length));
        output.WriteLine($"per character: {perCharSmall * 1e9:F0} ns at 64 Ki, {perCharLargest * 1e9:F0} ns at 4 Mi ({perCharLargest / perCharSmall:F2}x)");
        Assert.True(perCharLargest <= 2 * perCharSmall, $"per character {perCharLargest * 1e9:F0} ns at 4 Mi vs {perCharSmall * 1e9:F0} ns at 64 Ki");

        async Task<double> CpuSecondsAsync(string text, int adds)
        {
            var before = CpuTime();
            for (var i = 0; i < adds; i++)
            {
                await session.AddMessageAsync(new Message(MessageRole.User, text));
            }
            return (CpuTime() - before).TotalSeconds;
        }
    }

    [Fact]
    public void ALongRunOfEuroSigns_CountsInLinearTime()
    {
        // 3-byte characters: 64 Ki of '€' took 20.8 s on main.
        var small = new string('€', 16 * 1024);
        var large = new string('€', 256 * 1024);
        TiktokenCounter.Default.CountTokens(small);
        double perSmall = double.MaxValue, perLarge = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            perSmall = Math.Min(perSmall, CpuSeconds(small, 16) / (16.0 * small.Length));
            perLarge = Math.Min(perLarge, CpuSeconds(large, 1) / large.Length);
        }
        output.WriteLine($"'€' per character: {perSmall * 1e9:F0} ns at 16 Ki, {perLarge * 1e9:F0} ns at 256 Ki");
        Assert.True(perLarge <= 2 * perSmall, $"{perLarge * 1e9:F0} ns vs {perSmall * 1e9:F0} ns per character");

        static double CpuSeconds(string text, int counts)
        {
            var before = CpuTime();
            for (var i = 0; i < counts; i++)
            {
                TiktokenCounter.Default.CountTokens(text);
            }
            return (CpuTime() - before).TotalSeconds;
        }
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}

/// <summary>Tests that measure time: run after the parallel ones, one at a time.</summary>
[CollectionDefinition(nameof(TimingCollection), DisableParallelization = true)]
public sealed class TimingCollection;
