using System.Security.Cryptography;
using LangSwarm.MemoryEngine;
using Xunit;

namespace LangSwarm.Memory.Cli.Tests;

/// <summary>
/// lsmem on encrypted engine stores: the key comes from <c>LSMEM_KEY</c> (and <c>LSMEM_PREVIOUS_KEYS</c>), given to
/// each run as its own environment (never a process variable); without it, one clear line and exit code 2.
/// </summary>
public sealed class EncryptionTests : IDisposable
{
    private static readonly EncryptionKey Old = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static readonly EncryptionKey New = new(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());

    private static readonly string OldText = Convert.ToHexString(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static readonly string NewText = Convert.ToBase64String(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());

    private static readonly Dictionary<string, string?> NoKey = [];

    private static readonly Dictionary<string, string?> OldKey = new() { ["LSMEM_KEY"] = OldText };

    private static readonly Dictionary<string, string?> NewKey = new() { ["LSMEM_KEY"] = NewText };

    private readonly TempDir _dir = new();

    private string Store => _dir.File("engine");

    public void Dispose() => _dir.Dispose();

    /// <summary>Fills a store sealed with <paramref name="key"/> (null: a plain store).</summary>
    private async Task FillAsync(EncryptionKey? key)
    {
        await using var engine = new EngineBackend(new EngineOptions { Path = Store, Encryption = key is null ? null : KeyProvider.FromKey(key) });
        await Conversations.FillAsync(engine);
    }

    /// <summary>Every file of the store with a hash of its bytes.</summary>
    private Dictionary<string, string> Files(string? path = null) =>
        Directory.EnumerateFiles(path ?? Store, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(path ?? Store, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    private static void AssertKeyError(CliRun run, EncryptionKey needed, bool keyGiven)
    {
        Assert.Equal(2, run.Exit);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"lsmem: the store is encrypted with key {needed.Id:x8}, and ", line, StringComparison.Ordinal);
        Assert.Contains(keyGiven ? "the key in LSMEM_KEY (or LSMEM_PREVIOUS_KEYS) is not it" : "LSMEM_KEY is not set", line, StringComparison.Ordinal);
        Assert.Contains("set LSMEM_KEY to the store's key", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(OldText, run.Err + run.Out, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(NewText, run.Err + run.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("show", "trip-sf")]
    [InlineData("sessions")]
    [InlineData("stats")]
    [InlineData("export", "-o", "OUT")]
    [InlineData("verify")]
    [InlineData("vacuum")]
    [InlineData("import", "IN")]
    public async Task Without_LSMEM_KEY_every_command_says_so_in_one_line_exits_2_and_leaves_the_files(params string[] command)
    {
        await FillAsync(Old);
        var jsonl = _dir.File("in.jsonl");
        await File.WriteAllTextAsync(jsonl, string.Empty);
        var before = Files();
        string[] args = [.. command.Select(a => a switch { "OUT" => _dir.File("out.jsonl"), "IN" => jsonl, _ => a }), "--store", Store];

        var run = await Lsmem.RunAsync(NoKey, args);

        AssertKeyError(run, Old, keyGiven: false);
        Assert.Empty(run.Out);
        Assert.Equal(before, Files());
    }

    [Fact]
    public async Task With_the_wrong_key_the_store_is_refused_and_left_as_it_was()
    {
        await FillAsync(Old);
        var before = Files();

        var show = await Lsmem.RunAsync(NewKey, "show", "trip-sf", "--store", Store);
        var vacuum = await Lsmem.RunAsync(NewKey, "vacuum", "--store", Store);

        AssertKeyError(show, Old, keyGiven: true);
        AssertKeyError(vacuum, Old, keyGiven: true);
        Assert.Equal(before, Files());
    }

    [Fact]
    public async Task A_key_that_is_not_a_key_is_a_usage_error_naming_the_variable_not_its_value()
    {
        await FillAsync(Old);
        const string Junk = "my-secret-passphrase-is-not-a-key";

        var run = await Lsmem.RunAsync(new Dictionary<string, string?> { ["LSMEM_KEY"] = Junk }, "stats", "--store", Store);

        Assert.Equal(2, run.Exit);
        Assert.Contains("Environment variable LSMEM_KEY", run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(Junk, run.Err, StringComparison.Ordinal);
        Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task With_LSMEM_KEY_the_read_only_commands_work_and_stats_names_the_key()
    {
        await FillAsync(Old);
        var before = Files();

        var show = await Lsmem.RunAsync(OldKey, "show", "trip-sf", "--store", Store);
        var sessions = await Lsmem.RunAsync(OldKey, "sessions", "--store", Store);
        var stats = await Lsmem.RunAsync(OldKey, "stats", "--store", Store);
        var json = await Lsmem.RunAsync(OldKey, "stats", "--json", "--store", Store);
        var export = await Lsmem.RunAsync(OldKey, "export", "-o", _dir.File("out.jsonl"), "--store", Store);
        var verify = await Lsmem.RunAsync(OldKey, "verify", "--store", Store);

        Assert.True(show.Exit == 0, show.Err);
        Assert.Contains("Weather in San Francisco tomorrow?", show.Out, StringComparison.Ordinal);
        Assert.Contains("trip-sf", sessions.Out, StringComparison.Ordinal);
        Assert.True(stats.Exit == 0, stats.Err);
        Assert.Contains("sessions   3 ", stats.Out, StringComparison.Ordinal);
        Assert.Contains($"\nencryption on (key {Old.Id:x8})\n", stats.Out, StringComparison.Ordinal);
        Assert.Contains($"\"key_id\": \"{Old.Id:x8}\"", json.Out, StringComparison.Ordinal);
        Assert.True(export.Exit == 0, export.Err);
        Assert.Contains("Weather in San Francisco tomorrow?", await File.ReadAllTextAsync(_dir.File("out.jsonl")), StringComparison.Ordinal);
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);
        Assert.StartsWith("ok: ", verify.Out, StringComparison.Ordinal);
        Assert.Equal(before, Files()); // read-only views write nothing
    }

    [Fact]
    public async Task Stats_of_a_plain_store_says_encryption_off()
    {
        await FillAsync(null);

        var stats = await Lsmem.RunAsync(NoKey, "stats", "--store", Store);

        Assert.Equal(0, stats.Exit);
        Assert.EndsWith("\nencryption off\n", stats.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vacuum_rekey_rotates_to_the_new_key_after_which_the_old_one_is_not_needed()
    {
        await FillAsync(Old);

        var rekey = await Lsmem.RunAsync(new Dictionary<string, string?> { ["LSMEM_KEY"] = NewText, ["LSMEM_PREVIOUS_KEYS"] = OldText }, "vacuum", "--rekey", "--store", Store);

        Assert.True(rekey.Exit == 0, rekey.Err);
        var line = Assert.Single(rekey.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"rekeyed under key {New.Id:x8}: rewrote 3 session(s) (", line, StringComparison.Ordinal);
        Assert.Contains(" and the index file; ", line, StringComparison.Ordinal);
        Assert.EndsWith("; previous keys are no longer needed", line, StringComparison.Ordinal);

        var show = await Lsmem.RunAsync(NewKey, "show", "trip-sf", "--store", Store);
        Assert.True(show.Exit == 0, show.Err);
        Assert.Contains("Weather in San Francisco tomorrow?", show.Out, StringComparison.Ordinal);
        var stats = await Lsmem.RunAsync(NewKey, "stats", "--store", Store);
        Assert.Contains($"encryption on (key {New.Id:x8})", stats.Out, StringComparison.Ordinal);
        AssertKeyError(await Lsmem.RunAsync(OldKey, "show", "trip-sf", "--store", Store), New, keyGiven: true);
        AssertKeyError(await Lsmem.RunAsync(NoKey, "show", "trip-sf", "--store", Store), New, keyGiven: false);
    }

    [Fact]
    public async Task Vacuum_rekey_seals_a_store_written_without_a_key()
    {
        await FillAsync(null);

        var rekey = await Lsmem.RunAsync(NewKey, "vacuum", "--rekey", "-q", "--store", Store);

        Assert.True(rekey.Exit == 0, rekey.Err);
        AssertKeyError(await Lsmem.RunAsync(NoKey, "sessions", "--store", Store), New, keyGiven: false);
        Assert.Contains("chat-bob", (await Lsmem.RunAsync(NewKey, "sessions", "--store", Store)).Out, StringComparison.Ordinal);
        Assert.DoesNotContain(
            Directory.EnumerateFiles(Store, "*", SearchOption.AllDirectories),
            f => File.ReadAllText(f, System.Text.Encoding.Latin1).Contains("travel assistant", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Vacuum_rekey_needs_LSMEM_KEY_and_takes_no_min_dead()
    {
        await FillAsync(null);
        var before = Files();

        var noKey = await Lsmem.RunAsync(NoKey, "vacuum", "--rekey", "--store", Store);
        var minDead = await Lsmem.RunAsync(NewKey, "vacuum", "--rekey", "--min-dead", "0.5", "--store", Store);

        Assert.Equal((2, 2), (noKey.Exit, minDead.Exit));
        Assert.Contains("LSMEM_KEY, which is not set", noKey.Err, StringComparison.Ordinal);
        Assert.Contains("takes no --min-dead", minDead.Err, StringComparison.Ordinal);
        Assert.Equal(before, Files());
    }

    [Fact]
    public async Task Backup_and_restore_keep_the_store_encrypted_and_verify_with_the_key()
    {
        await FillAsync(Old);
        var backup = _dir.File("backup");
        var restored = _dir.File("restored");

        var backed = await Lsmem.RunAsync(OldKey, "backup", backup, "--store", Store);
        var restore = await Lsmem.RunAsync(OldKey, "restore", backup, "--store", restored);

        Assert.True(backed.Exit == 0, backed.Out + backed.Err);
        Assert.Contains("; verified: ", backed.Out, StringComparison.Ordinal);
        Assert.True(restore.Exit == 0, restore.Out + restore.Err);
        Assert.Contains("; verified: ", restore.Out, StringComparison.Ordinal);
        foreach (var copy in (string[])[backup, restored])
        {
            AssertKeyError(await Lsmem.RunAsync(NoKey, "show", "trip-sf", "--store", copy), Old, keyGiven: false);
            Assert.Contains("Thanks!", (await Lsmem.RunAsync(OldKey, "show", "trip-sf", "--store", copy)).Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Backup_and_restore_without_the_key_copy_the_sealed_files_but_cannot_verify_them()
    {
        await FillAsync(Old);
        var backup = _dir.File("backup");
        var restored = _dir.File("restored");

        var backed = await Lsmem.RunAsync(NoKey, "backup", backup, "--store", Store);
        var restore = await Lsmem.RunAsync(NoKey, "restore", backup, "--store", restored);

        AssertKeyError(backed, Old, keyGiven: false);
        Assert.Contains("(still encrypted); not verified: it needs its key", backed.Out, StringComparison.Ordinal);
        AssertKeyError(restore, Old, keyGiven: false);
        Assert.Contains("(still encrypted); not verified: it needs its key", restore.Out, StringComparison.Ordinal);
        Assert.Contains("Thanks!", (await Lsmem.RunAsync(OldKey, "show", "trip-sf", "--store", restored)).Out, StringComparison.Ordinal);
        var verify = await Lsmem.RunAsync(OldKey, "verify", "--store", restored);
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);
    }

    [Fact]
    public async Task A_store_spec_with_its_own_key_setting_wins_over_LSMEM_KEY()
    {
        await FillAsync(Old);
        var env = new Dictionary<string, string?> { ["LSMEM_KEY"] = NewText, ["OTHER_KEY"] = OldText };

        var run = await Lsmem.RunAsync(env, "stats", "--store", $"engine:path={Store},encryption_key_env=OTHER_KEY");

        Assert.True(run.Exit == 0, run.Err);
        Assert.Contains($"encryption on (key {Old.Id:x8})", run.Out, StringComparison.Ordinal);
    }
}
