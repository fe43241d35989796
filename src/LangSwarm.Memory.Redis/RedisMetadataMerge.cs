using System.Text.Json.Nodes;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The three-way merge behind a save that lost a race (<see cref="RedisSessionHandle.SaveAsync"/>): what the
/// caller changed from the metadata it started from is applied on top of what another writer stored meanwhile,
/// field by field and, in the free-form metadata, key by key. Both writers' changes survive; where both changed
/// the same field or key, the later save wins.
/// </summary>
internal static class RedisMetadataMerge
{
    /// <summary>
    /// <paramref name="theirs"/> with the changes that turned <paramref name="origin"/> into <paramref name="mine"/>.
    /// </summary>
    public static SessionMetadata Merge(SessionMetadata origin, SessionMetadata mine, SessionMetadata theirs)
    {
        var result = theirs.Clone();
        result.UserId = Pick(origin.UserId, mine.UserId, theirs.UserId);
        result.Status = Pick(origin.Status, mine.Status, theirs.Status);
        result.CreatedAt = Pick(origin.CreatedAt, mine.CreatedAt, theirs.CreatedAt);
        result.UpdatedAt = Pick(origin.UpdatedAt, mine.UpdatedAt, theirs.UpdatedAt);
        result.MaxMessages = Pick(origin.MaxMessages, mine.MaxMessages, theirs.MaxMessages);
        result.MaxTokens = Pick(origin.MaxTokens, mine.MaxTokens, theirs.MaxTokens);
        result.AutoSummarizeThreshold = Pick(origin.AutoSummarizeThreshold, mine.AutoSummarizeThreshold, theirs.AutoSummarizeThreshold);
        result.SummaryStrategy = Pick(origin.SummaryStrategy, mine.SummaryStrategy, theirs.SummaryStrategy);
        result.EvictionLowWater = Pick(origin.EvictionLowWater, mine.EvictionLowWater, theirs.EvictionLowWater);
        MergeObject(origin.Metadata, mine.Metadata, result.Metadata);
        return result;
    }

    /// <summary>Mine where I changed the field, else theirs (ordinal for strings, as <see cref="EqualityComparer{T}.Default"/> is).</summary>
    private static T Pick<T>(T origin, T mine, T theirs) => EqualityComparer<T>.Default.Equals(mine, origin) ? theirs : mine;

    private static void MergeObject(JsonObject origin, JsonObject mine, JsonObject into)
    {
        foreach (var (key, value) in mine)
        {
            if (!origin.TryGetPropertyValue(key, out var before) || !JsonNode.DeepEquals(before, value))
            {
                into[key] = value?.DeepClone();
            }
        }
        foreach (var (key, _) in origin)
        {
            if (!mine.ContainsKey(key))
            {
                into.Remove(key);
            }
        }
    }
}
