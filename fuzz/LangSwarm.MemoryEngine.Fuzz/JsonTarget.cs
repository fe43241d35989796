using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>
/// <c>json</c>: input = mode byte, then JSON bytes of any depth and encoding. Two paths run on them:
/// <list type="bullet">
/// <item>As a stored field: the bytes, verbatim, are a message's metadata, function_call or tool_calls field and a
/// session state's metadata field. The codecs read them or reject them as damage; what they read must be usable
/// (written back as JSON, every string and key readable) and must survive a write and a read unchanged.</item>
/// <item>As API input: parsed (leniently) into a node, placed by mode bits 0-1 as message metadata (0), tool_calls
/// (1), function_call (2) or session metadata (3) — wrapped when it is not the right kind — and checked by
/// <see cref="MessageValidator"/> / <see cref="MemoryLimits.ValidateSessionMetadata"/>. Rejection must be typed;
/// what they accept must encode, decode to the same JSON, parse under System.Text.Json's default depth, and be
/// read by the summarizer and the provider formats without an exception.</item>
/// </list>
/// </summary>
internal static class JsonTarget
{
    private static readonly JsonDocumentOptions Lenient = new() { MaxDepth = 4096 };

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }
        var mode = input[0];
        var json = input[1..].ToArray();
        AsStoredField(json);
        AsApiInput(mode, json);
    }

    private static void AsStoredField(byte[] json)
    {
        var header = new RecordHeader(RecordType.Message, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0);
        for (var field = 0; field < 3; field++)
        {
            var payload = MessagePayload(json, field);
            Invariants.Expect("MessageCodec.Read of a JSON field", () =>
            {
                var m = MessageCodec.Read(header, payload);
                MustBeUsable(m.Metadata, "decoded metadata");
                MustBeUsable(m.FunctionCall, "decoded function_call");
                MustBeUsable(m.ToolCalls, "decoded tool_calls");
                // What the reader accepts, the writer writes back and the reader reads again, unchanged.
                var again = new ArrayBufferWriter<byte>();
                MessageCodec.Write(again, m);
                var back = MessageCodec.Read(header, again.WrittenSpan);
                SameJson(m.Metadata, back.Metadata, "metadata");
                SameJson(m.FunctionCall, back.FunctionCall, "function_call");
                SameJson(m.ToolCalls, back.ToolCalls, "tool_calls");
            });
        }
        var state = StatePayload(json);
        Invariants.Expect("StateCodec.Read of a JSON field", () =>
        {
            var s = StateCodec.Read(state);
            MustBeUsable(s.Metadata.Metadata, "decoded session metadata");
            var again = new ArrayBufferWriter<byte>();
            StateCodec.Write(again, s);
            SameJson(s.Metadata.Metadata, StateCodec.Read(again.WrittenSpan).Metadata.Metadata, "session metadata");
        });
    }

    private static void AsApiInput(byte mode, byte[] json)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, null, Lenient);
        }
        catch (JsonException)
        {
            return; // not JSON: nothing to hand the API
        }
        var placement = mode & 3;
        if (placement == 3)
        {
            var metadata = node as JsonObject ?? new JsonObject { ["v"] = node };
            var sessionAccepted = false;
            Invariants.Expect("MemoryLimits.ValidateSessionMetadata", () =>
            {
                MemoryLimits.ValidateSessionMetadata(metadata);
                sessionAccepted = true;
            });
            if (sessionAccepted)
            {
                Unexpected("accepted session metadata", () =>
                {
                    Accepted(metadata, "session metadata");
                    var state = new SessionState(new SessionMetadata("s", "u") { Metadata = metadata });
                    var payload = new ArrayBufferWriter<byte>();
                    StateCodec.Write(payload, state);
                    SameJson(metadata, StateCodec.Read(payload.WrittenSpan).Metadata.Metadata, "session metadata");
                });
            }
            return;
        }
        var m = new Message(MessageRole.Assistant, "fuzz") { MessageId = "m", Sequence = 1, TokenCount = 1 };
        switch (placement)
        {
            case 0:
                m.Metadata = node as JsonObject ?? new JsonObject { ["v"] = node };
                break;
            case 1:
                m.ToolCalls = node as JsonArray ?? [new JsonObject { ["id"] = "c", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = node } }];
                break;
            default:
                m.FunctionCall = node as JsonObject ?? new JsonObject { ["name"] = "f", ["arguments"] = node };
                break;
        }
        var accepted = false;
        Invariants.Expect("MessageValidator.ValidateMessage", () =>
        {
            MessageValidator.ValidateMessage(m);
            accepted = true;
        });
        if (!accepted)
        {
            return;
        }
        // From here on nothing may fail: what the validator accepts, every backend stores and reads.
        Unexpected("accepted message", () =>
        {
            Accepted(m.Metadata, "metadata");
            Accepted(m.FunctionCall, "function_call");
            Accepted(m.ToolCalls, "tool_calls");
            var payload = new ArrayBufferWriter<byte>();
            MessageCodec.Write(payload, m);
            var back = MessageCodec.Read(MessageCodec.Header(1, m, 0), payload.WrittenSpan);
            SameJson(m.Metadata, back.Metadata, "metadata");
            SameJson(m.FunctionCall, back.FunctionCall, "function_call");
            SameJson(m.ToolCalls, back.ToolCalls, "tool_calls");
            // Readers of calls: the summarizer ran on every add once auto-summarize was due.
            Readers(m);
            Readers(back);
        });
    }

    /// <summary>Runs <paramref name="action"/>; any exception at all is a violation.</summary>
    private static void Unexpected(string what, Action action)
    {
        try
        {
            action();
        }
        catch (InvariantViolationException)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"{what}: {ex.GetType().FullName} escaped: {ex.Message}", ex);
        }
    }

    /// <summary>Accepted JSON: writable, and read by a default System.Text.Json parse (depth 64).</summary>
    private static void Accepted(JsonNode? node, string what)
    {
        if (node is null)
        {
            return;
        }
        string text;
        try
        {
            text = node.ToJsonString();
            JsonNode.Parse(text);
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"accepted {what} does not write or parse back: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    private static void Readers(Message m)
    {
        try
        {
            new ExtractiveSummarizer().SummarizeAsync([m], null).GetAwaiter().GetResult();
            AnthropicFormat.MessagesToAnthropicFormat([m]).Messages.ToJsonString();
            OpenAIFormat.MessagesToOpenAIFormat([m]).ToJsonString();
            m.ToChatMessage();
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"a reader of an accepted message failed: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    /// <summary>A decoded node must write as JSON and read whole: every key and string.</summary>
    private static void MustBeUsable(JsonNode? node, string what)
    {
        try
        {
            node?.ToJsonString();
            Visit(node);
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"{what} decoded but is not usable: {ex.GetType().Name}: {ex.Message}", ex);
        }

        static void Visit(JsonNode? n)
        {
            var stack = new Stack<JsonNode?>();
            stack.Push(n);
            while (stack.Count > 0)
            {
                switch (stack.Pop())
                {
                    case JsonObject o:
                        foreach (var (key, value) in o)
                        {
                            _ = key.Length;
                            stack.Push(value);
                        }
                        break;
                    case JsonArray a:
                        foreach (var item in a)
                        {
                            stack.Push(item);
                        }
                        break;
                    case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                        _ = v.GetValue<string>();
                        break;
                }
            }
        }
    }

    private static void SameJson(JsonNode? expected, JsonNode? actual, string what)
    {
        var a = expected?.ToJsonString();
        var b = actual?.ToJsonString();
        if (expected is JsonObject { Count: 0 } && actual is JsonObject { Count: 0 })
        {
            return;
        }
        Invariants.Check(a == b, $"{what} changed through the codec: {Clip(a)} became {Clip(b)}");
    }

    private static string Clip(string? s) => s is null ? "null" : s.Length <= 200 ? s : s[..200] + "...";

    /// <summary>A message payload whose JSON field <paramref name="field"/> (0 metadata, 1 function_call, 2 tool_calls) holds <paramref name="json"/>.</summary>
    private static byte[] MessagePayload(byte[] json, int field)
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new PayloadWriter(output);
        w.WriteString("m");
        w.WriteString("content");
        for (var i = 0; i < 3; i++)
        {
            if (i == field)
            {
                w.WriteVarint((ulong)json.Length + 1);
                output.Write(json);
            }
            else
            {
                w.WriteString(null);
            }
        }
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A session-state payload whose metadata field holds <paramref name="json"/>.</summary>
    private static byte[] StatePayload(byte[] json)
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new PayloadWriter(output);
        w.WriteByte(1);
        w.WriteString("s");
        w.WriteString(null);
        w.WriteInt64(0);
        w.WriteInt64(0);
        w.WriteByte(0);
        w.WriteInt32(10);
        w.WriteInt32(10);
        w.WriteInt32(0);
        w.WriteByte(2);
        w.WriteVarint((ulong)json.Length + 1);
        output.Write(json);
        w.WriteInt64(0);
        w.WriteInt32(0);
        w.WriteInt64(0);
        w.WriteInt64(0);
        return output.WrittenSpan.ToArray();
    }
}
