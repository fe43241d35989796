using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>
/// What the API accepts reads back identical on every backend, also after a reopen: generated messages and
/// session metadata with JSON of any depth up to <see cref="MemoryLimits.MaxJsonDepth"/> and text from every
/// Unicode plane (valid surrogate pairs only), plus a few maximal cases.
/// </summary>
public abstract partial class BackendConformanceTests
{
    /// <summary>Generated cases of the round-trip property; each creates a session, adds messages and reopens.</summary>
    protected virtual int RoundTripPropertyCases => 25;

    [Fact]
    public void AcceptedInput_ReadsBackIdentical_AfterAReopen()
    {
        var property = Prop.ForAll(ArbMap.Default.ArbFor<int>(), seed => RoundTripAsync(seed).GetAwaiter().GetResult());
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(RoundTripPropertyCases), property);
    }

    [Fact]
    public async Task MaximalAndEmptyInput_ReadsBackIdentical_AfterAReopen()
    {
        var rnd = new Random(11);
        var meta = new SessionMetadata("maximal", "u") { SummaryStrategy = SummaryStrategy.Manual, Metadata = NestedObject(MemoryLimits.MaxJsonDepth) };
        await Backend.CreateSessionAsync(meta);
        var s = (await Backend.GetSessionAsync("maximal"))!;
        // The largest message: the most content (3 UTF-8 bytes a character) and the longest metadata, all of it
        // escaped by the default JSON encoder (6 bytes a character), with the longest id; it still fits.
        var largest = new Message(MessageRole.User, new string('€', MemoryLimits.MaxContentLength))
        {
            MessageId = new string('m', MemoryLimits.MaxIdLength),
            Metadata = new JsonObject { ["k"] = new string('é', MemoryLimits.MaxJsonLength - 8) },
            TokenCount = 1,
        };
        var planes = Msg(MessageRole.Assistant, RandomText(rnd, 100_000, allowEmpty: false));
        planes.Metadata = new JsonObject { [RandomText(rnd, 50, allowEmpty: false)] = RandomText(rnd, 100_000, allowEmpty: true) };
        var emptyCall = new Message(MessageRole.Assistant, string.Empty) { ToolCalls = [new JsonObject { ["function"] = new JsonObject { ["name"] = string.Empty } }], TokenCount = 1 };
        var bare = Msg(MessageRole.Tool, " ");
        Message[] sent = [largest, planes, emptyCall, bare];
        foreach (var m in sent)
        {
            await s.AddMessageAsync(m);
        }
        await AssertMessagesStayAsync("maximal", sent);
        Assert.Equal(meta.Metadata.ToJsonString(), (await Backend.GetSessionAsync("maximal"))!.Metadata.Metadata.ToJsonString());
    }

    private async Task<bool> RoundTripAsync(int seed)
    {
        var rnd = new Random(seed);
        var id = $"rt-{seed}-{Guid.NewGuid():N}";
        var meta = new SessionMetadata(id, "rt-user") { SummaryStrategy = SummaryStrategy.Manual, Metadata = RandomObject(rnd, PickDepth(rnd)) };
        var session = await Backend.CreateSessionAsync(meta);
        var sent = new List<Message>();
        for (var i = rnd.Next(1, 5); i > 0; i--)
        {
            var m = RandomMessage(rnd);
            sent.Add(m);
        }
        if (rnd.Next(2) == 0)
        {
            await session.AddMessagesAsync(sent);
        }
        else
        {
            foreach (var m in sent)
            {
                await session.AddMessageAsync(m);
            }
        }
        var update = RandomObject(rnd, PickDepth(rnd) - 1 is var d && d > 0 ? d : 1);
        await session.UpdateMetadataAsync(new Dictionary<string, object?> { ["update"] = update });
        meta.Metadata["update"] = update.DeepClone();

        await AssertMessagesStayAsync(id, sent); // reads, reopens, reads again
        var back = (await Backend.GetSessionAsync(id))!.Metadata;
        Assert.Equal(meta.Metadata.ToJsonString(), back.Metadata.ToJsonString());
        await Backend.DeleteSessionAsync(id);
        return true;
    }

    /// <summary>A depth from 1 to the limit, the limit itself and 1 often.</summary>
    private static int PickDepth(Random rnd) => rnd.Next(4) switch
    {
        0 => MemoryLimits.MaxJsonDepth,
        1 => 1,
        _ => rnd.Next(1, MemoryLimits.MaxJsonDepth + 1),
    };

    private static Message RandomMessage(Random rnd)
    {
        var role = (MessageRole)rnd.Next(5);
        var m = new Message(role, RandomText(rnd, rnd.Next(0, 300), allowEmpty: false))
        {
            Timestamp = new DateTimeOffset(2000 + rnd.Next(100), 1 + rnd.Next(12), 1 + rnd.Next(28), rnd.Next(24), rnd.Next(60), rnd.Next(60), TimeSpan.FromHours(rnd.Next(-12, 13))).AddTicks(rnd.Next(10_000_000)),
            TokenCount = rnd.Next(3) == 0 ? null : rnd.Next(0, 5000),
            Metadata = rnd.Next(4) == 0 ? [] : RandomObject(rnd, PickDepth(rnd)),
        };
        if (rnd.Next(3) == 0)
        {
            m.MessageId = RandomId(rnd);
        }
        if (role == MessageRole.Assistant && rnd.Next(2) == 0)
        {
            var calls = new JsonArray();
            for (var i = rnd.Next(0, 4); i > 0; i--)
            {
                var call = new JsonObject
                {
                    ["id"] = "call_" + RandomText(rnd, rnd.Next(1, 12), allowEmpty: false),
                    ["type"] = "function",
                    ["function"] = new JsonObject
                    {
                        ["name"] = RandomText(rnd, rnd.Next(1, 20), allowEmpty: false),
                        ["arguments"] = rnd.Next(3) == 0 ? RandomObject(rnd, rnd.Next(1, MemoryLimits.MaxJsonDepth - 2)) : RandomObject(rnd, rnd.Next(1, 8)).ToJsonString(),
                    },
                };
                if (rnd.Next(4) == 0)
                {
                    call["x-extra"] = RandomObject(rnd, MemoryLimits.MaxJsonDepth - 2);
                }
                calls.Add(call);
            }
            m.ToolCalls = calls;
            m.Content = calls.Count > 0 && rnd.Next(2) == 0 ? string.Empty : m.Content;
        }
        if (role == MessageRole.Assistant && rnd.Next(4) == 0)
        {
            m.FunctionCall = new JsonObject { ["name"] = RandomText(rnd, rnd.Next(1, 20), allowEmpty: false), ["arguments"] = RandomObject(rnd, PickDepth(rnd) - 1 is var d && d > 0 ? d : 1) };
        }
        return m;
    }

    /// <summary>An object nested exactly <paramref name="depth"/> levels, with random members along the way.</summary>
    private static JsonObject RandomObject(Random rnd, int depth)
    {
        var root = new JsonObject();
        JsonNode at = root;
        for (var level = 1; level <= depth; level++)
        {
            // A few scalar siblings at each level, then the container that goes one level deeper.
            for (var i = rnd.Next(0, level == 1 ? 4 : 2); i > 0; i--)
            {
                Put(rnd, at, RandomScalar(rnd));
            }
            if (level == depth)
            {
                break;
            }
            JsonNode child = rnd.Next(2) == 0 ? new JsonObject() : new JsonArray();
            Put(rnd, at, child);
            at = child;
        }
        return root;
    }

    private static void Put(Random rnd, JsonNode container, JsonNode? value)
    {
        if (container is JsonArray a)
        {
            a.Add(value);
            return;
        }
        var o = (JsonObject)container;
        var key = RandomText(rnd, rnd.Next(0, 10), allowEmpty: true);
        while (o.ContainsKey(key))
        {
            key += (char)('a' + rnd.Next(26));
        }
        o[key] = value;
    }

    private static JsonNode? RandomScalar(Random rnd) => rnd.Next(7) switch
    {
        0 => null,
        1 => rnd.Next(2) == 0,
        2 => rnd.Next(int.MinValue, int.MaxValue),
        3 => rnd.NextInt64(long.MinValue, long.MaxValue),
        4 => Math.Round(rnd.NextDouble() * 1e6, rnd.Next(8)),
        _ => RandomText(rnd, rnd.Next(0, 40), allowEmpty: true),
    };

    private static string RandomId(Random rnd)
    {
        var sb = new StringBuilder();
        for (var n = rnd.Next(1, 40); n > 0; n--)
        {
            sb.Append((char)rnd.Next(0x21, 0x7F));
        }
        return sb.ToString();
    }

    /// <summary>Valid UTF-16 from every plane: ASCII, controls, the BMP around the surrogates, pairs up to U+10FFFF.</summary>
    private static string RandomText(Random rnd, int length, bool allowEmpty)
    {
        var sb = new StringBuilder(length + 1);
        while (sb.Length < length)
        {
            switch (rnd.Next(6))
            {
                case 0: sb.Append((char)rnd.Next(0x20, 0x7F)); break;
                case 1: sb.Append((char)rnd.Next(0, 0x20)); break;
                case 2: sb.Append((char)rnd.Next(0x80, 0xD800)); break;
                case 3: sb.Append((char)rnd.Next(0xE000, 0x10000)); break;
                default:
                    if (sb.Length + 2 <= length)
                    {
                        sb.Append(char.ConvertFromUtf32(rnd.Next(0x10000, 0x110000)));
                    }
                    else
                    {
                        sb.Append('z');
                    }
                    break;
            }
        }
        if (sb.Length == 0 && !allowEmpty)
        {
            sb.Append('x');
        }
        return sb.ToString();
    }
}
