using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>
/// One pass over a JSON member that checks the shared limits (<see cref="MemoryLimits"/>): nesting depth, valid
/// UTF-16 in every key and string, numbers JSON can write, and the running length of the compact text. The
/// recursion stops one level past <see cref="MemoryLimits.MaxJsonDepth"/>, so its own depth is bounded.
/// </summary>
internal static class JsonLimitChecker
{
    /// <summary>
    /// Checks <paramref name="root"/> (level 1) and adds its length to <paramref name="length"/>; the problem, or
    /// null. <paramref name="tooLong"/> is the problem reported once <paramref name="length"/> passes
    /// <see cref="MemoryLimits.MaxJsonLength"/> (a message's members share one length).
    /// </summary>
    public static string? Check(JsonNode root, string what, string tooLong, ref long length)
    {
        var walk = new Walk(what, tooLong, length);
        string? problem;
        try
        {
            problem = walk.Node(root, 1);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or JsonException or NotSupportedException)
        {
            // A lazily parsed node surfaces bad input only when read: an unpaired surrogate escape or invalid
            // UTF-8 (InvalidOperationException), a duplicate key (ArgumentException); a CLR value that does not
            // serialize (JsonException, NotSupportedException). The exception's kind, never its text: a duplicate
            // key's message quotes the key, a parse error its input.
            problem = $"{what} cannot be read as JSON text ({ex.GetType().Name}: {Cause(ex)}).";
        }
        length = walk.Length;
        return problem;
    }

    /// <summary>What went wrong, in words that quote nothing of the input.</summary>
    private static string Cause(Exception ex) => ex switch
    {
        InvalidOperationException => "a string or key that is not valid text",
        ArgumentException => "a duplicate key, or text that is not valid UTF-16",
        _ => "a value JSON cannot write",
    };

    /// <summary>
    /// True for an object with no members. A parsed object reads its keys on first use, and a key that is not
    /// text throws there: such an object is not empty, and <see cref="Check"/> reports it.
    /// </summary>
    public static bool IsEmpty(JsonObject o)
    {
        try
        {
            return o.Count == 0;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The JSON value of a CLR object as the API would store it, strings checked (see <see cref="StrictJson"/>).</summary>
    private static JsonElement Serialize(object value)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), StrictJson.Options);
        using var doc = JsonDocument.Parse(bytes, MemoryLimits.JsonReadOptions);
        return doc.RootElement.Clone();
    }

    /// <summary>The state of one check: what is checked, the message past the length limit, the running length.</summary>
    private ref struct Walk(string what, string tooLong, long length)
    {
        public long Length = length;

        public string? Node(JsonNode? node, int depth)
        {
            switch (node)
            {
                case null:
                    return Add(4);
                case JsonObject o:
                    if (depth > MemoryLimits.MaxJsonDepth)
                    {
                        return TooDeep();
                    }
                    if (Add(1 + Math.Max(1, o.Count)) is { } objectProblem)
                    {
                        return objectProblem;
                    }
                    for (var i = 0; i < o.Count; i++)
                    {
                        var (key, value) = o.GetAt(i);
                        if ((Key(key) ?? Node(value, depth + 1)) is { } p)
                        {
                            return p;
                        }
                    }
                    return null;
                case JsonArray a:
                    if (depth > MemoryLimits.MaxJsonDepth)
                    {
                        return TooDeep();
                    }
                    if (Add(1 + Math.Max(1, a.Count)) is { } arrayProblem)
                    {
                        return arrayProblem;
                    }
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (Node(a[i], depth + 1) is { } p)
                        {
                            return p;
                        }
                    }
                    return null;
                default:
                    return Value((JsonValue)node, depth);
            }
        }

        private string? Value(JsonValue v, int depth)
        {
            if (v.TryGetValue<string>(out var s))
            {
                return Text(s);
            }
            if (v.TryGetValue<JsonElement>(out var e))
            {
                return Element(e, depth);
            }
            if (v.TryGetValue<int>(out var i))
            {
                return Add(Digits(i));
            }
            if (v.TryGetValue<long>(out var l))
            {
                return Add(Digits(l));
            }
            if (v.TryGetValue<bool>(out var b))
            {
                return Add(b ? 4 : 5);
            }
            if (v.TryGetValue<double>(out var d))
            {
                return double.IsFinite(d) ? Add(Digits(d)) : $"{what} holds the number {d}, which JSON cannot write.";
            }
            if (v.TryGetValue<float>(out var f))
            {
                return float.IsFinite(f) ? Add(Digits(f)) : $"{what} holds the number {f}, which JSON cannot write.";
            }
            if (v.TryGetValue<decimal>(out var m))
            {
                return Add(Digits(m));
            }
            if (v.TryGetValue<char>(out var c))
            {
                return char.IsSurrogate(c) ? NotUtf16() : Add(8);
            }
            // Any other CLR value (a decimal, a date, a dictionary, an object): check what it serializes to.
            return Element(Serialize(v.GetValue<object>()), depth);
        }

        private string? Element(JsonElement e, int depth)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    if (depth > MemoryLimits.MaxJsonDepth)
                    {
                        return TooDeep();
                    }
                    var properties = 0;
                    foreach (var p in e.EnumerateObject())
                    {
                        properties++;
                        if ((Add(1) ?? Key(p.Name) ?? Element(p.Value, depth + 1)) is { } problem)
                        {
                            return problem;
                        }
                    }
                    return Add(properties == 0 ? 2 : 1);
                case JsonValueKind.Array:
                    if (depth > MemoryLimits.MaxJsonDepth)
                    {
                        return TooDeep();
                    }
                    var items = 0;
                    foreach (var item in e.EnumerateArray())
                    {
                        items++;
                        if ((Add(1) ?? Element(item, depth + 1)) is { } problem)
                        {
                            return problem;
                        }
                    }
                    return Add(items == 0 ? 2 : 1);
                case JsonValueKind.String:
                    return Text(e.GetString()!);
                case JsonValueKind.Number:
                    return Add(JsonMarshal.GetRawUtf8Value(e).Length);
                case JsonValueKind.True:
                    return Add(4);
                case JsonValueKind.False:
                    return Add(5);
                default:
                    return Add(4);
            }
        }

        private string? Key(string key) => MessageValidator.IsValidUtf16(key) ? Add(key.Length + 3) : NotUtf16();

        private string? Text(string s) => MessageValidator.IsValidUtf16(s) ? Add(s.Length + 2) : NotUtf16();

        private string? Add(long n)
        {
            Length += n;
            return Length > MemoryLimits.MaxJsonLength ? tooLong : null;
        }

        private string TooDeep() => $"{what} is nested deeper than {MemoryLimits.MaxJsonDepth} levels (MemoryLimits.MaxJsonDepth).";

        private string NotUtf16() => $"{what} is not valid UTF-16 (a key or string holds an unpaired surrogate).";

        private static int Digits<T>(T n)
            where T : ISpanFormattable
        {
            Span<char> buffer = stackalloc char[64];
            return n.TryFormat(buffer, out var written, default, CultureInfo.InvariantCulture) ? written : 64;
        }
    }
}
