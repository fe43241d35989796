using LangSwarm.Memory.Redis.Tests;
using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

[Collection(RedisCollection.Name)]
public sealed class RedisRoundTripTests(RedisServerFixture redis) : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public async Task Engine_to_jsonl_to_redis_to_jsonl_gives_identical_bytes_and_migrate_back_verifies()
    {
        var engine = _dir.File("engine");
        await Conversations.FillEngineAsync(engine);
        var prefix = RedisServerFixture.NewPrefix();
        var store = $"redis:host=127.0.0.1,port={redis.Server.Port},key_prefix={prefix}";

        var export = await Lsmem.RunAsync("export", "--store", engine, "-o", _dir.File("a.jsonl"));
        var import = await Lsmem.RunAsync("import", _dir.File("a.jsonl"), "--store", store);
        var again = await Lsmem.RunAsync("export", "--store", store, "-o", _dir.File("b.jsonl"));
        var back = await Lsmem.RunAsync("migrate", "--from", store, "--to", "engine:" + _dir.File("engine2"));

        Assert.Equal((0, 0, 0), (export.Exit, import.Exit, again.Exit));
        Assert.Equal(await File.ReadAllBytesAsync(_dir.File("a.jsonl")), await File.ReadAllBytesAsync(_dir.File("b.jsonl")));
        Assert.Equal(0, back.Exit);
        Assert.Contains("copied 3,", back.Out, StringComparison.Ordinal);
        Assert.Contains("verified 3", back.Out, StringComparison.Ordinal);
        await redis.DeletePrefixAsync(prefix);
    }

    public void Dispose() => _dir.Dispose();
}
