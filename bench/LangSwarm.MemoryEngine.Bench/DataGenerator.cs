using System.Text;
using System.Text.Json.Nodes;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Bench;

/// <summary>
/// Deterministic chat data (fixed seed): English-like text of varied length and assistant turns with JSON tool
/// calls answered by tool results. Token counts are filled once per template so no backend pays the tokenizer.
/// </summary>
public sealed class DataGenerator
{
    /// <summary>The seed every run uses.</summary>
    public const int Seed = 20250101;

    /// <summary>Timestamp of message 0; message i is <c>i</c> seconds later.</summary>
    public static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] Words =
    [
        "the", "model", "context", "window", "token", "session", "user", "assistant", "please", "summarize", "document",
        "function", "returns", "value", "error", "database", "query", "latency", "memory", "storage", "request", "response",
        "customer", "order", "invoice", "shipping", "weather", "forecast", "tomorrow", "because", "however", "which",
        "should", "would", "could", "about", "between", "configuration", "deployment", "kubernetes", "cluster", "python",
        "script", "example", "result", "analysis", "report", "quarterly", "revenue", "growth", "percent", "table", "chart",
        "is", "a", "of", "to", "and", "in", "for", "on", "with", "as", "it", "that", "this", "we", "you", "can", "will",
    ];

    private static readonly string[] Tools = ["get_weather", "search_docs", "run_sql", "create_ticket", "lookup_order"];

    private readonly List<Message> _mixed;
    private readonly Dictionary<int, List<Message>> _fixed = [];
    private readonly Random _rng;
    private readonly ITokenCounter _counter;

    /// <summary>Builds the template pools.</summary>
    public DataGenerator(int templates = 1024, ITokenCounter? counter = null)
    {
        _rng = new Random(Seed);
        _counter = counter ?? TiktokenCounter.Default;
        _mixed = new List<Message>(templates);
        for (var i = 0; i < templates; i++)
        {
            _mixed.Add(MakeMixed(i));
        }
    }

    /// <summary>Mean UTF-8 payload bytes (content plus call JSON) of the mixed pool.</summary>
    public double MeanMixedBytes => _mixed.Average(PayloadBytes);

    /// <summary>Text of about <paramref name="bytes"/> bytes.</summary>
    public static string Text(Random rng, int bytes)
    {
        var sb = new StringBuilder(bytes + 16);
        var sentence = 0;
        while (sb.Length < bytes)
        {
            var w = Words[rng.Next(Words.Length)];
            sb.Append(sentence == 0 ? char.ToUpperInvariant(w[0]) + w[1..] : w);
            sentence++;
            if (sentence > 6 && rng.Next(8) == 0)
            {
                sb.Append(rng.Next(3) == 0 ? ". " : ", ");
                sentence = rng.Next(2) == 0 ? 0 : sentence;
            }
            else
            {
                sb.Append(' ');
            }
            if (rng.Next(40) == 0)
            {
                sb.Append(rng.Next(10_000)).Append(' ');
            }
        }
        return sb.ToString(0, bytes).TrimEnd() + ".";
    }

    /// <summary>UTF-8 bytes of what a message carries (content and call JSON).</summary>
    public static int PayloadBytes(Message m) =>
        Encoding.UTF8.GetByteCount(m.Content) + (m.ToolCalls is null ? 0 : Encoding.UTF8.GetByteCount(m.ToolCalls.ToJsonString()));

    /// <summary>Message <paramref name="index"/> of a conversation: a fresh copy with its own id and timestamp.</summary>
    public Message Mixed(long index)
    {
        var m = _mixed[(int)(index % _mixed.Count)].Clone();
        m.MessageId = $"m{index:x}";
        m.Timestamp = Epoch.AddSeconds(index);
        return m;
    }

    /// <summary>A plain user/assistant message of about <paramref name="bytes"/> bytes (W3's 1 KB messages).</summary>
    public Message Fixed(int bytes, long index)
    {
        if (!_fixed.TryGetValue(bytes, out var pool))
        {
            var rng = new Random(Seed + bytes);
            pool = [];
            for (var i = 0; i < 64; i++)
            {
                var m = new Message(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, Text(rng, bytes));
                m.TokenCount = _counter.CountMessageTokens(m);
                pool.Add(m);
            }
            _fixed[bytes] = pool;
        }
        var c = pool[(int)(index % pool.Count)].Clone();
        c.MessageId = $"f{index:x}";
        c.Timestamp = Epoch.AddSeconds(index);
        return c;
    }

    /// <summary>A batch of mixed messages starting at <paramref name="first"/>.</summary>
    public List<Message> MixedBatch(long first, int count)
    {
        var list = new List<Message>(count);
        for (var i = 0; i < count; i++)
        {
            list.Add(Mixed(first + i));
        }
        return list;
    }

    private Message MakeMixed(int i)
    {
        // One in eight turns is an assistant tool call followed (next template) by the tool's result.
        Message m;
        if (i % 8 == 6)
        {
            var tool = Tools[_rng.Next(Tools.Length)];
            var args = new JsonObject { ["query"] = Text(_rng, 20 + _rng.Next(60)), ["limit"] = _rng.Next(1, 50) };
            m = new Message(MessageRole.Assistant, string.Empty)
            {
                ToolCalls =
                [
                    new JsonObject
                    {
                        ["id"] = $"call_{i}",
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = tool, ["arguments"] = args.ToJsonString() },
                    },
                ],
            };
        }
        else if (i % 8 == 7)
        {
            var result = new JsonObject { ["status"] = "ok", ["items"] = new JsonArray(Text(_rng, 40), Text(_rng, 80), _rng.Next(1000)) };
            m = new Message(MessageRole.Tool, result.ToJsonString());
            m.Metadata["tool_call_id"] = $"call_{i - 1}";
        }
        else
        {
            // Lengths: mostly short user turns and longer assistant answers; a heavy tail up to ~6 KB.
            var user = i % 2 == 0;
            var len = user ? 40 + (int)(_rng.NextDouble() * _rng.NextDouble() * 600) : 200 + (int)(Math.Pow(_rng.NextDouble(), 2.5) * 6000);
            m = new Message(user ? MessageRole.User : MessageRole.Assistant, Text(_rng, len));
        }
        m.TokenCount = _counter.CountMessageTokens(m);
        return m;
    }
}
