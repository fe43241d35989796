using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Tests.Context;

/// <summary>The shared limits themselves: how depth and length are counted, and that defaults read what is accepted.</summary>
public sealed class MemoryLimitsTests
{
    private static JsonNode Nest(int depth, bool arrays)
    {
        JsonNode root = arrays ? new JsonArray() : new JsonObject();
        var at = root;
        for (var level = 2; level <= depth; level++)
        {
            JsonNode child = arrays ? new JsonArray() : new JsonObject();
            if (at is JsonArray a)
            {
                a.Add(child);
            }
            else
            {
                ((JsonObject)at)["k"] = child;
            }
            at = child;
        }
        return root;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Depth_CountsTheMembersOwnContainerAsLevelOne_AsTheDefaultReaderDoes(bool arrays)
    {
        var atLimit = Nest(MemoryLimits.MaxJsonDepth, arrays);
        var past = Nest(MemoryLimits.MaxJsonDepth + 1, arrays);
        long length = 0;
        Assert.Null(JsonLimitChecker.Check(atLimit, "x", "too long", ref length));
        length = 0;
        Assert.Contains("deeper", JsonLimitChecker.Check(past, "x", "too long", ref length), StringComparison.Ordinal);
        // A default System.Text.Json parse reads exactly what is accepted.
        Assert.NotNull(JsonNode.Parse(atLimit.ToJsonString()));
        Assert.ThrowsAny<JsonException>(() => JsonNode.Parse(past.ToJsonString()));
    }

    [Fact]
    public void Length_IsTheCompactTextsLength_ForTextWithoutEscapes()
    {
        var rnd = new Random(5);
        for (var n = 0; n < 200; n++)
        {
            var node = RandomNode(rnd, 0);
            long length = 0;
            Assert.Null(JsonLimitChecker.Check(node, "x", "too long", ref length));
            Assert.Equal(node.ToJsonString().Length, length);
            // Parsed (element-backed) nodes count the same.
            length = 0;
            Assert.Null(JsonLimitChecker.Check(JsonNode.Parse(node.ToJsonString())!, "x", "too long", ref length));
            Assert.Equal(node.ToJsonString().Length, length);
        }
    }

    private static JsonNode RandomNode(Random rnd, int depth)
    {
        switch (depth > 6 ? rnd.Next(2, 7) : rnd.Next(7))
        {
            case 0:
                var o = new JsonObject();
                for (var i = rnd.Next(4); i > 0; i--)
                {
                    o["k" + i + new string('a', rnd.Next(5))] = RandomNode(rnd, depth + 1);
                }
                return o;
            case 1:
                var a = new JsonArray();
                for (var i = rnd.Next(4); i > 0; i--)
                {
                    a.Add(RandomNode(rnd, depth + 1));
                }
                return a;
            case 2: return JsonValue.Create(rnd.Next(-1000000, 1000000));
            case 3: return JsonValue.Create(rnd.NextInt64());
            case 4: return JsonValue.Create(rnd.Next(2) == 0);
            case 5: return JsonValue.Create(Math.Round(rnd.NextDouble() * 1000, 3));
            default: return JsonValue.Create(new string('s', rnd.Next(20)));
        }
    }

    [Fact]
    public void ClrValues_AreCheckedByWhatTheySerializeTo()
    {
        long length = 0;
        var ok = new JsonObject { ["when"] = JsonValue.Create(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc)), ["money"] = 12.5m, ["map"] = JsonValue.Create(new Dictionary<string, int[]> { ["a"] = [1, 2] }) };
        Assert.Null(JsonLimitChecker.Check(ok, "x", "too long", ref length));
        Assert.Equal(ok.ToJsonString().Length, length);
        var lone = new JsonObject { ["map"] = JsonValue.Create(new Dictionary<string, string> { ["a"] = "\uD800" }) };
        length = 0;
        Assert.NotNull(JsonLimitChecker.Check(lone, "x", "too long", ref length));
    }

    [Fact]
    public void MessageValidator_UsesTheSharedLimits()
    {
        Assert.Equal(MemoryLimits.MaxIdLength, MessageValidator.MaxIdLength);
        Assert.Equal(MemoryLimits.MaxContentLength, MessageValidator.MaxContentLength);
        Assert.True(MemoryLimits.MaxJsonReadDepth >= MemoryLimits.MaxJsonDepth);
        Assert.Equal(MemoryLimits.MaxJsonReadDepth, MemoryLimits.JsonReadOptions.MaxDepth);
    }
}
