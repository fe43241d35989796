using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>
/// One conversation message in the universal format shared by every provider and backend.
/// </summary>
/// <remarks>
/// A message is a plain value: backends store a copy, and hand back fresh copies, so mutating a message
/// (or its JSON members) after adding it never changes what is stored.
/// </remarks>
public sealed class Message
{
    private DateTimeOffset _timestamp = DateTimeOffset.UtcNow;
    private JsonObject _metadata = new();

    /// <summary>Creates an empty user message; set the members with an object initializer.</summary>
    public Message()
    {
    }

    /// <summary>Creates a message with a role and text content.</summary>
    public Message(MessageRole role, string content)
    {
        Role = role;
        Content = content;
    }

    /// <summary>The author of the message.</summary>
    public MessageRole Role { get; set; } = MessageRole.User;

    /// <summary>Text content; empty only for an assistant turn that carries tool or function calls.</summary>
    public string Content { get; set; } = string.Empty;

    /// <summary>When the message was written, always in UTC.</summary>
    public DateTimeOffset Timestamp
    {
        get => _timestamp;
        set => _timestamp = value.ToUniversalTime();
    }

    /// <summary>Caller-chosen or generated identifier, unique within its session.</summary>
    public string MessageId { get; set; } = NewId();

    /// <summary>Tokens of this message under the session's token counter; filled on add when missing.</summary>
    public int? TokenCount { get; set; }

    /// <summary>Free-form metadata; round-trips exactly through every backend.</summary>
    public JsonObject Metadata
    {
        get => _metadata;
        set => _metadata = value ?? new JsonObject();
    }

    /// <summary>OpenAI legacy <c>function_call</c> object (<c>{"name":..., "arguments":...}</c>).</summary>
    public JsonObject? FunctionCall { get; set; }

    /// <summary>OpenAI <c>tool_calls</c> array (<c>[{"id":..., "type":"function", "function":{...}}]</c>).</summary>
    public JsonArray? ToolCalls { get; set; }

    /// <summary>
    /// Position of the message in its session, assigned by the backend when stored (1, 2, 3, ...);
    /// zero for a message that has not been stored.
    /// </summary>
    public long Sequence { get; set; }

    /// <summary>The tool call this message answers (<c>metadata["tool_call_id"]</c>), if any.</summary>
    public string? ToolCallId => MetadataString("tool_call_id");

    /// <summary>The participant or function name (<c>metadata["name"]</c>, or <c>metadata["tool_name"]</c>), if any.</summary>
    public string? Name => MetadataString("name") ?? MetadataString("tool_name");

    /// <summary>True when this is an assistant turn that calls tools or a function.</summary>
    public bool HasCalls => (ToolCalls is { Count: > 0 }) || FunctionCall is not null;

    /// <summary>A deep copy: JSON members are cloned, so the copy shares nothing mutable.</summary>
    public Message Clone() => new()
    {
        Role = Role,
        Content = Content,
        _timestamp = _timestamp,
        MessageId = MessageId,
        TokenCount = TokenCount,
        _metadata = (JsonObject)_metadata.DeepClone(),
        FunctionCall = (JsonObject?)FunctionCall?.DeepClone(),
        ToolCalls = (JsonArray?)ToolCalls?.DeepClone(),
        Sequence = Sequence,
    };

    /// <inheritdoc />
    public override string ToString() => $"{Role.ToWireName()}: {Content}";

    /// <summary>
    /// A random (version 4) UUID in 32 hex digits. Drawn from <see cref="Random.Shared"/> (seeded from the OS,
    /// 122 random bits): ids need to be unique, not secret, and <see cref="Guid.NewGuid"/> costs a system call
    /// per message on Linux, a visible share of a relaxed-durability add.
    /// </summary>
    internal static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4 (Guid's byte order keeps it in byte 7)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes).ToString("N");
    }

    private string? MetadataString(string key) =>
        _metadata.TryGetPropertyValue(key, out var node) ? JsonRead.String(node) : null;
}
