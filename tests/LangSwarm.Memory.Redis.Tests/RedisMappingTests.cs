using StackExchange.Redis;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>The session hash mapping, without a server.</summary>
public sealed class RedisMappingTests
{
    private static HashEntry[] Hash(SessionState state, bool withLowWater)
    {
        var fields = RedisMapping.MetadataFields(state.Metadata);
        var entries = new List<HashEntry>();
        for (var i = 0; i < fields.Count; i += 2)
        {
            if (withLowWater || (string)fields[i]! != RedisMapping.FLowWater)
            {
                entries.Add(new HashEntry(fields[i], fields[i + 1]));
            }
        }
        return [.. entries];
    }

    [Fact]
    public void EvictionLowWater_RoundTrips_AndAHashWithoutIt_ReadsTheDefault()
    {
        var state = new SessionState(new SessionMetadata("s", "u") { EvictionLowWater = 0.1 + 0.2, MaxMessages = 12 });
        Assert.Equal(0.1 + 0.2, RedisMapping.StateFromHash(Hash(state, withLowWater: true))!.Metadata.EvictionLowWater);
        var old = RedisMapping.StateFromHash(Hash(state, withLowWater: false))!;
        Assert.Equal(SessionMetadata.DefaultEvictionLowWater, old.Metadata.EvictionLowWater);
        Assert.Equal(12, old.Metadata.MaxMessages);
    }
}
