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
        if (!string.Equals(mine.UserId, origin.UserId, StringComparison.Ordinal))
        {
            result.UserId = mine.UserId;
        }
        if (mine.Status != origin.Status)
        {
            result.Status = mine.Status;
        }
        if (mine.CreatedAt != origin.CreatedAt)
        {
            result.CreatedAt = mine.CreatedAt;
        }
        if (mine.UpdatedAt != origin.UpdatedAt)
        {
            result.UpdatedAt = mine.UpdatedAt;
        }
        if (mine.MaxMessages != origin.MaxMessages)
        {
            result.MaxMessages = mine.MaxMessages;
        }
        if (mine.MaxTokens != origin.MaxTokens)
        {
            result.MaxTokens = mine.MaxTokens;
        }
        if (mine.AutoSummarizeThreshold != origin.AutoSummarizeThreshold)
        {
            result.AutoSummarizeThreshold = mine.AutoSummarizeThreshold;
        }
        if (mine.SummaryStrategy != origin.SummaryStrategy)
        {
            result.SummaryStrategy = mine.SummaryStrategy;
        }
        if (!mine.EvictionLowWater.Equals(origin.EvictionLowWater))
        {
            result.EvictionLowWater = mine.EvictionLowWater;
        }
        MergeObject(origin.Metadata, mine.Metadata, result.Metadata);
        return result;
    }

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
