using Xunit;

namespace LangSwarm.Memory.Tests.Model;

/// <summary>Message ids are random version-4 UUIDs in 32 hex digits, unique across many draws.</summary>
public sealed class MessageIdTests
{
    [Fact]
    public void NewIds_AreVersion4Uuids_InThirtyTwoHexDigits_AndDistinct()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 100_000; i++)
        {
            var id = new Message(MessageRole.User, "x").MessageId;
            Assert.Equal(32, id.Length);
            Assert.True(seen.Add(id), $"duplicate id {id}");
            if (i < 1000)
            {
                var guid = Guid.ParseExact(id, "N");
                Assert.Equal(4, guid.Version);
                Assert.Equal(0x8, guid.Variant & 0xC);
            }
        }
    }
}
