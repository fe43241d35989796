using System.Buffers;
using System.Text;
using LangSwarm.MemoryEngine.Format;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Strings are encoded in one pass with a guessed length prefix: the bytes must be those of the plain layout
/// (varint of UTF-8 length + 1, then the UTF-8), also where the guess is short and the bytes move up.
/// </summary>
public sealed class PayloadWriterTests
{
    public static TheoryData<string, int> Strings()
    {
        var data = new TheoryData<string, int>();
        // Lengths around the varint boundaries of the char count and of the byte count.
        foreach (var unit in new[] { "a", "é", "€", "😀", "\uD800", "a\uDC00", "mixed ascii é € 😀 \uD83D text" })
        {
            foreach (var chars in new[] { 0, 1, 41, 42, 43, 63, 64, 126, 127, 128, 5_461, 8_191, 16_383, 16_384, 16_385, 20_000 })
            {
                data.Add(unit, chars);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Strings))]
    public void WriteString_SameBytesAsLengthThenText_AndReadsBack(string unit, int chars)
    {
        var sb = new StringBuilder();
        while (sb.Length < chars)
        {
            sb.Append(unit);
        }
        var value = sb.ToString();
        var actual = new ArrayBufferWriter<byte>(1);
        actual.Write<byte>([0x7E]); // something before, so the string does not start at offset 0
        new PayloadWriter(actual).WriteString(value);

        var utf8 = Encoding.UTF8.GetBytes(value);
        var expected = new byte[1 + Varint.MaxLength + utf8.Length];
        expected[0] = 0x7E;
        var n = 1 + Varint.Write(expected.AsSpan(1), (ulong)utf8.Length + 1);
        utf8.CopyTo(expected, n);
        Assert.Equal(expected.AsSpan(0, n + utf8.Length).ToArray(), actual.WrittenSpan.ToArray());

        var reader = new PayloadReader(actual.WrittenSpan[1..]);
        Assert.Equal(Encoding.UTF8.GetString(utf8), reader.ReadString());
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void WriteString_Null_IsZero()
    {
        var output = new ArrayBufferWriter<byte>();
        new PayloadWriter(output).WriteString(null);
        Assert.Equal([0], output.WrittenSpan.ToArray());
    }
}
