using Xunit;

namespace LangSwarm.MemoryEngine.Fuzz.Tests;

/// <summary>Each fuzz target's smoke mode with a fixed seed, and every committed corpus input, so fuzz regressions fail CI.</summary>
public sealed class FuzzSmokeTests
{
    private const int Seed = 20250102;

    public static TheoryData<string, int> Runs() => new()
    {
        { "record", 600 },
        { "scan", 600 },
        { "index", 400 },
        { "store", 200 },
        { "json", 600 },
        // Encryption at rest (FORMAT.md §13): the same targets on sealed records, pages and stores, with the
        // test key, no key and the wrong key.
        { "record-sealed", 600 },
        { "index-sealed", 400 },
        { "store-sealed", 200 },
    };

    public static TheoryData<string> Names() => [.. Targets.Names];

    [Theory]
    [MemberData(nameof(Runs))]
    public void Smoke_mutations_break_no_invariant(string target, int iterations)
    {
        var result = Smoke.Run(target, iterations, Seed, Seeds.FindCorpus());
        Assert.True(result.Passed, $"{target}: {result.Failure}\ninput: {(result.FailingInput is null ? "" : Convert.ToHexString(result.FailingInput))}");
        Assert.Equal(iterations, result.Iterations);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Committed_corpus_inputs_pass(string target)
    {
        var corpus = Seeds.FindCorpus();
        Assert.NotNull(corpus);
        var files = Seeds.Load(corpus, target);
        Assert.NotEmpty(files);
        foreach (var (name, bytes) in files)
        {
            var failure = Smoke.Once(target, bytes);
            Assert.True(failure is null, $"{target}/{name}: {failure}");
        }
    }

    /// <summary>
    /// The engine bug this target found first: an encrypted store opened with its key accepted a plain record, so a
    /// record inserted into the commit log with a valid checksum, and no key, was read back as a message that was
    /// never written. Fixed: a plain record at or above the meta page's sealed-since LSN is damage (FORMAT.md §13.3).
    /// </summary>
    [Fact]
    public void A_plain_record_forged_into_an_encrypted_store_is_not_read()
    {
        var input = StoreTarget.PlainRecordInjection();
        var failure = Smoke.Once("store-sealed", input);
        Assert.True(failure is null, $"store-sealed: {failure}\ninput: {Convert.ToHexString(input)}");
    }

    [Fact]
    public void Sealed_targets_allow_the_key_refusal_and_name_it()
    {
        Assert.True(Invariants.IsAllowed(new LangSwarm.MemoryEngine.EncryptionKeyException("no key", 7)));
        Assert.Contains("record-sealed", Targets.Names);
        Assert.Contains("index-sealed", Targets.Names);
        Assert.Contains("store-sealed", Targets.Names);
    }

    [Fact]
    public void A_violation_is_reported_with_its_input()
    {
        Assert.False(Invariants.IsAllowed(new ArgumentOutOfRangeException("x")));
        Assert.False(Invariants.IsAllowed(new LangSwarm.Memory.BackendUnavailableException("wrapped", new IndexOutOfRangeException())));
        Assert.True(Invariants.IsAllowed(new InvalidDataException("damaged")));
        Assert.Throws<InvariantViolationException>(() => Invariants.Expect("probe", () => throw new NullReferenceException()));
    }

    [Fact]
    public void The_allocation_ceiling_is_64_MiB_plus_2_KiB_per_input_byte()
    {
        Assert.Equal(64L * 1024 * 1024, Targets.Budget(0));
        Assert.Equal((64L * 1024 * 1024) + (2048L * 1000), Targets.Budget(1000));
    }

    [Fact]
    public void Allocating_past_the_ceiling_is_a_violation_on_any_thread()
    {
        var past = (int)Targets.Budget(16) + (1024 * 1024);
        // On the caller's thread, and on another one (as the engine's flusher and background tasks allocate).
        var here = Assert.Throws<InvariantViolationException>(() => Targets.WithinAllocationBudget("probe", 16, () => GC.KeepAlive(new byte[past])));
        Assert.Contains("16-byte input", here.Message, StringComparison.Ordinal);
        Assert.Throws<InvariantViolationException>(() => Targets.WithinAllocationBudget("probe", 16, () => Task.Run(() => GC.KeepAlive(new byte[past])).Wait()));
        // Within the ceiling passes.
        Targets.WithinAllocationBudget("probe", 16, () => Task.Run(() => GC.KeepAlive(new byte[1024 * 1024])).Wait());
    }
}
