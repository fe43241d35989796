using System.Buffers;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Format.Codecs;

/// <summary>
/// Message payload: message id, content, metadata JSON (null when empty), function_call JSON, tool_calls JSON,
/// each a <see cref="PayloadWriter"/> string. Role, timestamp, tokens and sequence live in the record header.
/// </summary>
internal static class MessageCodec
{
    public static void Write(IBufferWriter<byte> output, Message m)
    {
        var w = new PayloadWriter(output);
        w.WriteString(m.MessageId);
        w.WriteString(m.Content);
        try
        {
            w.WriteJson(m.Metadata.Count == 0 ? null : m.Metadata);
            w.WriteJson(m.FunctionCall);
            w.WriteJson(m.ToolCalls);
        }
        catch (ArgumentException ex)
        {
            // Not reached by input MessageValidator passed (it bounds depth far lower); a message that skipped
            // it fails here, before any byte of the record is framed.
            throw new InvalidMessageException($"Message {m.MessageId}: {ex.Message}");
        }
    }

    public static RecordHeader Header(ulong session, Message m, long writtenTicks) => new(
        RecordType.Message,
        m.HasCalls ? RecordFlags.HasCalls : RecordFlags.None,
        0,
        0,
        session,
        0,
        m.Sequence,
        m.Timestamp.UtcTicks,
        writtenTicks,
        (byte)m.Role,
        m.TokenCount ?? 0);

    public static Message Read(in RecordHeader h, ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var id = r.ReadString() ?? throw new InvalidDataException("Message record without an id.");
        var content = r.ReadString() ?? string.Empty;
        var meta = r.ReadJsonObject();
        var fn = r.ReadJsonObject();
        var tools = r.ReadJsonArray();
        return new Message((MessageRole)h.Role, content)
        {
            MessageId = id,
            Timestamp = PayloadReader.UtcFromTicks(h.TimeTicks),
            TokenCount = h.Tokens,
            Sequence = h.Sequence,
            Metadata = meta ?? new JsonObject(),
            FunctionCall = fn,
            ToolCalls = tools,
        };
    }
}
