using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>
/// The JSON fields of a payload (FORMAT.md §2.3). The writer and the reader share one depth bound,
/// <see cref="MemoryLimits.MaxJsonReadDepth"/>, at or above the <see cref="MemoryLimits.MaxJsonDepth"/> the API
/// accepts, so whatever is written reads back. The reader takes only what the writer can produce: valid UTF-8,
/// no unpaired surrogate escape, no duplicate key; anything else is damage (<see cref="InvalidDataException"/>).
/// </summary>
internal static class JsonPayload
{
    private const int KeepScratchBytes = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new() { MaxDepth = MemoryLimits.MaxJsonReadDepth };

    private static readonly JsonDocumentOptions ReaderOptions = new()
    {
        MaxDepth = MemoryLimits.MaxJsonReadDepth,
        AllowDuplicateProperties = false,
    };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>
    /// Writes <paramref name="node"/> as a string field (FORMAT.md §2.3): null as the null string, else the compact
    /// UTF-8 JSON — the bytes <c>ToJsonString()</c> would encode — serialized once into a per-thread scratch buffer.
    /// </summary>
    /// <exception cref="ArgumentException">The node cannot be written as JSON (nested past
    /// <see cref="MemoryLimits.MaxJsonReadDepth"/>, a number JSON has no form for, text that is not text); nothing
    /// is written to <paramref name="output"/> then.</exception>
    public static void Write(IBufferWriter<byte> output, JsonNode? node)
    {
        var w = new PayloadWriter(output);
        if (node is null)
        {
            w.WriteVarint(0);
            return;
        }
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(1024);
        var writer = t_writer;
        if (writer is null)
        {
            writer = new Utf8JsonWriter(scratch, WriterOptions);
            t_writer = writer;
        }
        else
        {
            writer.Reset(scratch);
        }
        try
        {
            node.WriteTo(writer);
            writer.Flush();
            var json = scratch.WrittenSpan;
            w.WriteVarint((ulong)json.Length + 1);
            json.CopyTo(output.GetSpan(json.Length));
            output.Advance(json.Length);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or JsonException or NotSupportedException)
        {
            // A writer left mid-document is not reusable: the next call starts a fresh one.
            t_writer = null;
            writer.Dispose();
            // The kind of failure only: the serializer's message can quote a key or value of the caller's data.
            throw new ArgumentException($"JSON cannot be stored ({ex.GetType().Name}: nesting too deep, a duplicate key or a value JSON cannot hold).", nameof(node));
        }
        finally
        {
            if (scratch.Capacity > KeepScratchBytes)
            {
                t_scratch = null;
                t_writer?.Dispose();
                t_writer = null;
            }
            else
            {
                scratch.ResetWrittenCount();
            }
        }
    }

    /// <summary>Parses a stored JSON field.</summary>
    /// <exception cref="InvalidDataException">The bytes are not what a writer stores.</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8)
    {
        if (!Utf8.IsValid(utf8))
        {
            throw new InvalidDataException("Stored JSON is not valid UTF-8.");
        }
        // Before the parse: its duplicate-key check reads property names, and one with an unpaired surrogate
        // escape would throw InvalidOperationException there.
        if (HasUnpairedSurrogateEscape(utf8))
        {
            throw new InvalidDataException("Stored JSON holds an unpaired surrogate escape.");
        }
        try
        {
            return JsonNode.Parse(utf8, null, ReaderOptions);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Without the parser's message or the exception: both can quote the stored bytes, which are a conversation's.
            throw new InvalidDataException($"Stored JSON of {utf8.Length} bytes does not parse ({ex.GetType().Name}).");
        }
    }

    /// <summary>
    /// True when a <c>\u</c> escape of a high surrogate is not followed by one of a low surrogate, or a low one
    /// stands alone. Exact for valid JSON, where every backslash starts an escape inside a string; on other bytes
    /// it may answer either way, and the parse then rejects them.
    /// </summary>
    internal static bool HasUnpairedSurrogateEscape(ReadOnlySpan<byte> json)
    {
        var at = json.IndexOf((byte)'\\');
        while (at >= 0)
        {
            var next = at + 2;
            if (at + 5 < json.Length && json[at + 1] == (byte)'u')
            {
                var unit = Hex4(json.Slice(at + 2, 4));
                next = at + 6;
                if (unit is >= 0xDC00 and <= 0xDFFF)
                {
                    return true;
                }
                if (unit is >= 0xD800 and <= 0xDBFF)
                {
                    if (at + 11 >= json.Length || json[at + 6] != (byte)'\\' || json[at + 7] != (byte)'u'
                        || Hex4(json.Slice(at + 8, 4)) is < 0xDC00 or > 0xDFFF)
                    {
                        return true;
                    }
                    next = at + 12;
                }
            }
            if (next >= json.Length)
            {
                return false;
            }
            var rest = json[next..].IndexOf((byte)'\\');
            at = rest < 0 ? -1 : next + rest;
        }
        return false;
    }

    private static int Hex4(ReadOnlySpan<byte> hex)
    {
        var value = 0;
        foreach (var b in hex)
        {
            var digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return -1;
            }
            value = (value << 4) | digit;
        }
        return value;
    }
}
