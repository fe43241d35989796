using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace LangSwarm.Memory.Tests.Context;

public sealed class ContextWindowTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static List<MessageInfo> Infos(params (MessageRole Role, int Tokens, bool Calls)[] spec) =>
        spec.Select((s, i) => new MessageInfo(i + 1, s.Role, s.Tokens, T0.AddSeconds(i), s.Calls)).ToList();

    private const MessageRole S = MessageRole.System;
    private const MessageRole U = MessageRole.User;
    private const MessageRole A = MessageRole.Assistant;
    private const MessageRole T = MessageRole.Tool;
    private const MessageRole F = MessageRole.Function;

    [Theory]
    [InlineData(0, new int[0])]
    [InlineData(9, new int[0])]
    [InlineData(10, new[] { 3 })]
    [InlineData(19, new[] { 3 })]
    [InlineData(20, new[] { 2, 3 })]
    [InlineData(40, new[] { 0, 1, 2, 3 })]
    [InlineData(1000, new[] { 0, 1, 2, 3 })]
    public void SelectNewest_plain_turns(long budget, int[] expected)
    {
        var infos = Infos((U, 10, false), (A, 10, false), (U, 10, false), (A, 10, false));
        Assert.Equal(expected, ContextWindow.SelectNewest(infos, budget));
    }

    [Theory]
    [InlineData(5, new[] { 4 })]
    [InlineData(19, new[] { 4 })]
    [InlineData(20, new[] { 1, 2, 3, 4 })]
    [InlineData(24, new[] { 1, 2, 3, 4 })]
    [InlineData(25, new[] { 0, 1, 2, 3, 4 })]
    public void SelectNewest_keeps_a_call_with_its_results(long budget, int[] expected)
    {
        // user | assistant-call, tool, tool (one block of 15) | assistant
        var infos = Infos((U, 5, false), (A, 5, true), (T, 5, false), (T, 5, false), (A, 5, false));
        Assert.Equal(expected, ContextWindow.SelectNewest(infos, budget));
    }

    [Fact]
    public void SelectNewest_legacy_function_result_travels_with_its_call()
    {
        var infos = Infos((U, 5, false), (A, 5, true), (F, 5, false));
        Assert.Equal([1, 2], ContextWindow.SelectNewest(infos, 10));
        Assert.Empty(ContextWindow.SelectNewest(infos, 9));
    }

    [Fact]
    public void SelectNewest_never_opens_with_an_orphan_result()
    {
        // Results at the start, or after an assistant without calls, answer no call in the window.
        var leading = Infos((T, 5, false), (T, 5, false), (U, 5, false), (A, 5, false));
        Assert.Equal([2, 3], ContextWindow.SelectNewest(leading, 100));

        var afterPlainAssistant = Infos((A, 5, false), (T, 5, false), (U, 5, false));
        Assert.Equal([2], ContextWindow.SelectNewest(afterPlainAssistant, 10));
        Assert.Equal([0, 1, 2], ContextWindow.SelectNewest(afterPlainAssistant, 15));
    }

    [Fact]
    public void SelectNewest_of_nothing_is_empty()
    {
        Assert.Empty(ContextWindow.SelectNewest([], 100));
        Assert.Empty(ContextWindow.SelectNewest(Infos((U, 1, false)), -5));
    }

    [Fact]
    public void SelectEvictions_within_limits_evicts_nothing()
    {
        var infos = Infos((S, 5, false), (U, 5, false), (A, 5, false));
        Assert.Empty(ContextWindow.SelectEvictions(infos, 3, 15));
    }

    [Fact]
    public void SelectEvictions_by_count_drops_oldest_non_system()
    {
        var infos = Infos((S, 5, false), (U, 5, false), (A, 5, false), (U, 5, false), (A, 5, false));
        Assert.Equal([2L, 3L], ContextWindow.SelectEvictions(infos, 3, 1000));
    }

    [Fact]
    public void SelectEvictions_by_tokens_stops_at_the_limit()
    {
        var infos = Infos((S, 5, false), (U, 5, false), (A, 5, false), (U, 5, false), (A, 5, false));
        // 25 tokens; evicting 2, 3, 4 leaves exactly 10.
        Assert.Equal([2L, 3L, 4L], ContextWindow.SelectEvictions(infos, 1000, 10));
        Assert.Equal([2L, 3L], ContextWindow.SelectEvictions(infos, 1000, 15));
    }

    [Fact]
    public void SelectEvictions_never_evicts_system_or_the_newest_block()
    {
        var infos = Infos((S, 50, false), (U, 5, false), (S, 50, false), (A, 5, true), (T, 5, false), (T, 5, false));
        Assert.Equal([2L], ContextWindow.SelectEvictions(infos, 1, 1));
    }

    [Theory]
    [InlineData(4, new long[] { 1 })]
    [InlineData(3, new long[] { 1, 2, 3, 4 })]
    [InlineData(2, new long[] { 1, 2, 3, 4 })]
    public void SelectEvictions_removes_a_call_block_whole(int maxMessages, long[] expected)
    {
        var infos = Infos((U, 5, false), (A, 5, true), (T, 5, false), (T, 5, false), (A, 5, false));
        Assert.Equal(expected, ContextWindow.SelectEvictions(infos, maxMessages, 1000));
    }

    private static (List<MessageInfo> Infos, long Budget) Decode(byte[] bytes)
    {
        var roles = new[] { S, U, A, A, T, F, U, A };
        var infos = new List<MessageInfo>();
        for (var i = 1; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var role = roles[b % roles.Length];
            infos.Add(new MessageInfo(i, role, (b >> 3) % 12, T0.AddSeconds(i), role == A && (b & 0x80) != 0));
        }
        long budget = bytes.Length == 0 ? 0 : bytes[0] % 64;
        return (infos, budget);
    }

    private static bool IsResult(MessageRole r) => r is T or F;

    [Fact]
    public void SelectNewest_property_fits_budget_is_a_suffix_and_keeps_blocks()
    {
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var (infos, budget) = Decode(bytes ?? []);
            var picked = ContextWindow.SelectNewest(infos, budget);
            if (picked.Count == 0)
            {
                return true;
            }
            var tokens = picked.Sum(i => (long)infos[i].TokenCount);
            var first = picked[0];
            var isSuffix = picked.SequenceEqual(Enumerable.Range(first, infos.Count - first));
            var startsWithResult = IsResult(infos[first].Role);
            // A result kept at the front would be separated from its call; any other split is impossible for a suffix.
            return tokens <= budget && isSuffix && !startsWithResult;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), prop);
    }

    [Fact]
    public void SelectEvictions_property_keeps_system_and_newest_block_and_whole_blocks()
    {
        var prop = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var (infos, budget) = Decode(bytes ?? []);
            var maxMessages = (int)(budget % 8) + 1;
            var evicted = ContextWindow.SelectEvictions(infos, maxMessages, budget + 1).ToHashSet();
            var nonSystem = infos.Where(i => i.Role != S).ToList();
            if (infos.Any(i => i.Role == S && evicted.Contains(i.Sequence)))
            {
                return false;
            }
            if (nonSystem.Count > 0 && evicted.Contains(nonSystem[^1].Sequence))
            {
                return false;
            }
            // Evicted non-system messages are a prefix of the non-system messages.
            var k = nonSystem.TakeWhile(i => evicted.Contains(i.Sequence)).Count();
            if (k != evicted.Count)
            {
                return false;
            }
            // The first kept non-system message is never a result of an evicted call.
            if (k > 0 && k < nonSystem.Count && IsResult(nonSystem[k].Role))
            {
                var j = k - 1;
                while (j >= 0 && IsResult(nonSystem[j].Role))
                {
                    j--;
                }
                if (j >= 0 && nonSystem[j].Role == A && nonSystem[j].HasCalls)
                {
                    return false;
                }
            }
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), prop);
    }

    [Fact]
    public void SelectEvictions_WithALowWaterMark_EvictsDownToItOnlyOnceALimitIsPassed()
    {
        // Ten 10-token turns and a system message: at the limit (11 messages) nothing goes.
        var spec = new List<(MessageRole, int, bool)> { (S, 10, false) };
        spec.AddRange(Enumerable.Range(0, 10).Select(i => (i % 2 == 0 ? U : A, 10, false)));
        Assert.Empty(ContextWindow.SelectEvictions(Infos([.. spec]), 11, 1000, 0.8));

        // One past: down to floor(0.8 × 11) = 8 messages, oldest non-system first.
        spec.Add((U, 10, false));
        Assert.Equal([2L, 3, 4, 5], ContextWindow.SelectEvictions(Infos([.. spec]), 11, 1000, 0.8));
        // Just enough with a mark of 1 (the three-argument overload).
        Assert.Equal([2L], ContextWindow.SelectEvictions(Infos([.. spec]), 11, 1000));
        Assert.Equal([2L], ContextWindow.SelectEvictions(Infos([.. spec]), 11, 1000, 1.0));
        // Tokens: 120 > 110, down to floor(0.5 × 110) = 55 tokens.
        Assert.Equal([2L, 3, 4, 5, 6, 7, 8], ContextWindow.SelectEvictions(Infos([.. spec]), 100, 110, 0.5));
    }

    [Fact]
    public void SelectEvictions_WithALowWaterMark_TakesWholeCallBlocks()
    {
        // u, call + 2 results, u, a, u: six messages over a limit of 5, down to 4: the u and the whole call block go.
        var infos = Infos((U, 10, false), (A, 10, true), (T, 10, false), (T, 10, false), (U, 10, false), (A, 10, false), (U, 10, false));
        Assert.Equal([1L, 2, 3, 4], ContextWindow.SelectEvictions(infos, 5, 1000, 0.8));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void SelectEvictions_RefusesALowWaterMarkOutsideZeroToOne(double lowWater) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ContextWindow.SelectEvictions(Infos((U, 10, false)), 1, 1, lowWater));
}
