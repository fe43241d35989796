using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

public sealed class ProgressAndMaintenanceTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Engine => _dir.File("engine");

    [Theory]
    [InlineData("export", "--quiet")]
    [InlineData("export")]
    [InlineData("verify")]
    [InlineData("vacuum", "-q")]
    public async Task Piped_or_quiet_long_work_prints_one_summary_line(params string[] args)
    {
        await Conversations.FillEngineAsync(Engine);
        string[] extra = args[0] == "export" ? ["-o", _dir.File("out.jsonl")] : [];

        var run = await Lsmem.RunAsync([.. args, .. extra, "--store", Engine]);

        Assert.Equal(0, run.Exit);
        Assert.Single(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(run.Err);
    }

    [Fact]
    public async Task Verify_and_vacuum_refuse_a_store_that_is_not_the_engine()
    {
        await Conversations.FillEngineAsync(Engine);
        var db = "sqlite:" + _dir.File("s.db");
        await Lsmem.RunAsync("migrate", "--from", "engine:" + Engine, "--to", db);

        var verify = await Lsmem.RunAsync("verify", "--store", db);
        var vacuum = await Lsmem.RunAsync("vacuum", "--store", db);

        Assert.Equal((2, 2), (verify.Exit, vacuum.Exit));
        Assert.Contains("engine stores only", verify.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_reports_ok_on_a_clean_store_and_migrate_import_export_agree_on_counts()
    {
        await Conversations.FillEngineAsync(Engine);

        var verify = await Lsmem.RunAsync("verify", "--store", Engine);
        var export = await Lsmem.RunAsync("export", "--store", Engine, "-o", _dir.File("a.jsonl"), "-q");
        var import = await Lsmem.RunAsync("import", _dir.File("a.jsonl"), "--store", "sqlite:" + _dir.File("b.db"), "-q");

        Assert.StartsWith("ok: ", verify.Out, StringComparison.Ordinal);
        var messages = export.Out.Split(", ")[1];
        Assert.EndsWith(" message(s)", messages, StringComparison.Ordinal);
        Assert.Contains(messages, import.Out, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
