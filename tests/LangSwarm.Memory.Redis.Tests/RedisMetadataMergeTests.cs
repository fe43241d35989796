using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>The three-way merge of a save that lost a race, without a server.</summary>
public sealed class RedisMetadataMergeTests
{
    [Fact]
    public void MyChanges_GoOntoTheirs_FieldByField_AndKeyByKey()
    {
        var origin = new SessionMetadata("s", "u") { MaxMessages = 10, MaxTokens = 100 };
        origin.Metadata["kept"] = "o";
        origin.Metadata["dropped"] = "o";
        origin.Metadata["changed"] = "o";

        var mine = origin.Clone();
        mine.MaxMessages = 11;
        mine.Metadata.Remove("dropped");
        mine.Metadata["changed"] = "mine";
        mine.Metadata["added"] = "mine";

        var theirs = origin.Clone();
        theirs.MaxTokens = 200;
        theirs.Status = SessionStatus.Archived;
        theirs.Metadata["kept"] = "theirs";
        theirs.Metadata["theirs"] = 1;

        var merged = RedisMetadataMerge.Merge(origin, mine, theirs);

        Assert.Equal((11, 200, SessionStatus.Archived), (merged.MaxMessages, merged.MaxTokens, merged.Status));
        Assert.Equal("theirs", (string)merged.Metadata["kept"]!);
        Assert.Equal("mine", (string)merged.Metadata["changed"]!);
        Assert.Equal("mine", (string)merged.Metadata["added"]!);
        Assert.Equal(1, (int)merged.Metadata["theirs"]!);
        Assert.False(merged.Metadata.ContainsKey("dropped"));
        Assert.Equal("u", merged.UserId);
    }
}
