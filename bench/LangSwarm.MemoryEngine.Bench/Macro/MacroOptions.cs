namespace LangSwarm.MemoryEngine.Bench.Macro;

/// <summary>Sizes and switches of a macro run (<c>--quick</c> shrinks every size, never skips a scenario).</summary>
public sealed record MacroOptions
{
    /// <summary>Small sizes for CI.</summary>
    public bool Quick { get; init; }

    /// <summary>Where the results file and chart go.</summary>
    public string OutDir { get; init; } = Path.Combine("bench", "results");

    /// <summary>Repetitions of each measurement.</summary>
    public int Repetitions => Quick ? 3 : 5;

    /// <summary>W1: messages added one at a time, per repetition.</summary>
    public int W1Messages => Quick ? 60 : 1_000;

    /// <summary>
    /// W2: concurrent sessions, and how long each repetition adds for (at least 5 s in a full run, so that one slow
    /// fsync or a checkpoint moves a repetition's rate by little).
    /// </summary>
    public (int Sessions, TimeSpan Duration) W2 => Quick ? (64, TimeSpan.FromMilliseconds(200)) : (64, TimeSpan.FromSeconds(5));

    /// <summary>W3: 1-KB messages per repetition.</summary>
    public int W3Messages => Quick ? 3_000 : 20_000;

    /// <summary>W3 batched: messages per AddMessagesAsync call.</summary>
    public int W3Batch => 100;

    /// <summary>R1/R2: sessions of 1,000 messages, small sessions beside them, timed calls per repetition.</summary>
    public (int LongSessions, int SmallSessions, int Calls) Reads => Quick ? (2, 100, 100) : (10, 2_000, 2_000);

    /// <summary>W4: adds of ~400 tokens to the one long conversation.</summary>
    public int W4Messages => Quick ? 400 : 20_000;

    /// <summary>S1/O1: messages to write (the run stops early at <see cref="FillBudget"/> and says how many it wrote).</summary>
    public int SpaceMessages => Quick ? 20_000 : 1_000_000;

    /// <summary>Most time one backend may spend filling the S1 store.</summary>
    public TimeSpan FillBudget => Quick ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(45);

    /// <summary>M1: messages the child process writes and reads.</summary>
    public int M1Messages => Quick ? 5_000 : 100_000;

    /// <summary>
    /// <c>--scale</c>: run S2 at its full sizes. They fill stores of a million sessions or messages, far longer than
    /// the rest of a run, so a full run leaves S2 out unless asked; <c>--quick</c> always runs it at small sizes so
    /// CI keeps it working, and <c>--only S2</c> asks for it too.
    /// </summary>
    public bool Scale { get; init; }

    /// <summary><c>--scale-sessions N</c> (implies <c>--scale</c>): the wide store's session count instead of <see cref="ScaleWide"/>'s default.</summary>
    public int? ScaleSessions { get; init; }

    /// <summary>True when S2 runs: <c>--scale</c>, <c>--quick</c> or <c>--only S2</c>, and S2 selected.</summary>
    public bool RunsScale => Includes("S2") && (Scale || Quick || Only is not null);

    /// <summary>
    /// S2 wide: sessions × mixed messages each. The engine writes one segment file per session until pack files
    /// exist, so the full size means a million files (hence <see cref="ScaleFillBudget"/>).
    /// </summary>
    public (int Sessions, int MessagesEach) ScaleWide => (ScaleSessions ?? (Quick ? 2_000 : 1_000_000), 5);

    /// <summary>S2 long: sessions × mixed messages each (added in batches of 100, round robin).</summary>
    public (int Sessions, int MessagesEach) ScaleLong => Quick ? (10, 2_000) : (10, 100_000);

    /// <summary>Most time one backend may spend filling one S2 store; the rows say how much it wrote.</summary>
    public TimeSpan ScaleFillBudget => Quick ? TimeSpan.FromSeconds(10) : TimeSpan.FromMinutes(20);

    /// <summary>
    /// S2 unclean open: messages the child process adds to the reopened store before it is killed. The fill's
    /// own log is checkpointed by its clean close, so this tail is all the recovery has to replay.
    /// </summary>
    public int ScaleUncleanTail => Quick ? 1_000 : 10_000;

    /// <summary>
    /// S2 repetitions (opens, reads, kills). Each one starts a child process that loads the tokenizer, so
    /// <c>--quick</c> makes one: CI checks that the rows work, not their spread.
    /// </summary>
    public int ScaleRepetitions => Quick ? 1 : Repetitions;

    /// <summary>
    /// Row ids to run (<c>--only W3,R1</c>), or null for all. A partial run is for comparing one workload
    /// before and after a change; it skips the physical limits (unless <c>--limits</c>) and writes to a temp folder unless <c>--out</c> says otherwise.
    /// </summary>
    public IReadOnlySet<string>? Only { get; init; }

    /// <summary>
    /// <c>--warmup</c>: run discarded repetitions before the measured ones (Writes rows) until at least
    /// <see cref="WarmupTime"/> has passed (one at least). Background tier-1 JIT lags, and the first repetitions
    /// of a short row (W3's take a tenth of a second) otherwise measure tier-0 code.
    /// </summary>
    public bool Warmup { get; init; }

    /// <summary>Least time spent in discarded repetitions with <see cref="Warmup"/>.</summary>
    public TimeSpan WarmupTime => Quick ? TimeSpan.Zero : TimeSpan.FromSeconds(1);

    /// <summary>
    /// <c>--limits</c>: measure the physical limits in a partial run too, so a W3-only run can report the
    /// engine's speed as a fraction of LZ4 and sequential write measured alongside it.
    /// </summary>
    public bool Limits { get; init; }

    /// <summary>Columns to measure (<c>--backends engine,sqlite</c>), or null for all.</summary>
    public IReadOnlySet<string>? BackendFilter { get; init; }

    /// <summary>True when the row id is selected.</summary>
    public bool Includes(string rowId) => Only is null || Only.Contains(rowId);

    /// <summary>True when any of the row ids is selected.</summary>
    public bool IncludesAny(params string[] rowIds) => Only is null || rowIds.Any(Only.Contains);

    /// <summary>True when the column (engine, sqlite, redis) is selected.</summary>
    public bool IncludesBackend(string column) => BackendFilter is null || BackendFilter.Contains(column);

    /// <summary>The command line as given, for the report.</summary>
    public string CommandLine { get; init; } = string.Empty;

    /// <summary>The options, for error messages.</summary>
    public const string Usage = "macro [--quick] [--out DIR] [--only W1,W2,W3,W4,R1,R2,S1,O1,B1,C1,M1,M2,S2] [--backends engine,sqlite,redis] [--warmup] [--limits] [--scale] [--scale-sessions N]";

    private bool OutGiven { get; init; }

    /// <summary>Parses <c>[--quick] [--out DIR] [--only W3,...] [--backends engine,...] [--scale] [--scale-sessions N]</c>.</summary>
    public static MacroOptions Parse(string[] args)
    {
        var o = new MacroOptions { CommandLine = "dotnet run --project bench/LangSwarm.MemoryEngine.Bench -c Release -- macro " + string.Join(' ', args) };
        for (var i = 0; i < args.Length; i++)
        {
            o = args[i] switch
            {
                "--quick" => o with { Quick = true },
                "--warmup" => o with { Warmup = true },
                "--limits" => o with { Limits = true },
                "--scale" => o with { Scale = true },
                "--scale-sessions" when i + 1 < args.Length => o with { Scale = true, ScaleSessions = PositiveInt(args[++i]) },
                "--out" when i + 1 < args.Length => o with { OutDir = args[++i], OutGiven = true },
                "--only" when i + 1 < args.Length => o with { Only = Set(args[++i], s => s.ToUpperInvariant()) },
                "--backends" when i + 1 < args.Length => o with { BackendFilter = Set(args[++i], s => s.ToLowerInvariant()) },
                _ => throw new ArgumentException($"Unknown macro option '{args[i]}'. Usage: {Usage}"),
            };
        }
        if (o.Only is not null && !o.OutGiven)
        {
            // A partial run must not replace the full results of the day in bench/results.
            o = o with { OutDir = Path.Combine(Path.GetTempPath(), "lsmem-bench-partial") };
        }
        return o;
    }

    private static int PositiveInt(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"--scale-sessions needs a positive whole number (was '{text}'). Usage: {Usage}");

    private static HashSet<string> Set(string list, Func<string, string> normalize) =>
        [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(normalize)];
}
