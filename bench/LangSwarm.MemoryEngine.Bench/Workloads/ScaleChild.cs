using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench.Workloads;

/// <summary>
/// The child process of S2 (<c>macro-scale --mode peak|unclean --backend engine|sqlite --dir D --shape wide|long
/// --sessions N --each M --filled F [--tail T --round R]</c>). <c>peak</c> opens the filled store, reads 200
/// contexts of sessions picked by the seed and prints its peak working set (as M1's child does); <c>unclean</c>
/// opens it, adds the tail, says so and waits to be killed.
/// </summary>
public static class ScaleChild
{
    /// <summary>What the unclean child prints once its tail is acknowledged.</summary>
    public const string TailWritten = "S2_TAIL_WRITTEN";

    /// <summary>Contexts the peak child reads, as M1's child does.</summary>
    public const int PeakContexts = 200;

    /// <summary>The command line of a child for <paramref name="shape"/>'s store in <paramref name="dir"/>.</summary>
    public static string Arguments(string mode, string backend, string dir, ScaleShape shape, int filled, int tail = 0, int round = 0) =>
        string.Create(CultureInfo.InvariantCulture, $"macro-scale --mode {mode} --backend {backend} --dir \"{dir}\" --shape {shape.Name} --sessions {shape.Sessions} --each {shape.MessagesEach} --filled {filled} --tail {tail} --round {round}");

    /// <summary>The backend the parent filled, over the same directory, in the fill's mode.</summary>
    public static IMemoryBackend Create(string backend, string dir) => backend switch
    {
        "engine" => Backends.Engine(DurabilityMode.None).Create(dir),
        "sqlite" => Backends.Sqlite(SqliteDurability.Normal).Create(dir),
        _ => throw new ArgumentException("macro-scale needs --backend engine|sqlite."),
    };

    /// <summary>The child side.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var a = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            a[args[i].TrimStart('-')] = args[i + 1];
        }
        int Int(string key) => int.Parse(a[key], CultureInfo.InvariantCulture);
        var shape = new ScaleShape(a["shape"], Int("sessions"), Int("each"));
        var filled = Int("filled");
        var b = Create(a["backend"], a["dir"]);
        await b.ConnectAsync().ConfigureAwait(false);
        if (a["mode"] == "unclean")
        {
            // Not disposed: the parent kills this process once the line is out, and whatever the store holds open
            // (logs, WAL, LOCK) stays as a crash leaves it. None and synchronous=NORMAL both have each add
            // written to the OS before it returns, so a killed process loses none of it.
            await ScaleFill.AddTailAsync(new DataGenerator(), b, shape, filled, Int("tail"), Int("round")).ConfigureAwait(false);
            Console.WriteLine(TailWritten);
            Console.Out.Flush();
            await Task.Delay(Timeout.Infinite).ConfigureAwait(false);
            return 1;
        }
        await using (b)
        {
            // M1's child carries the tokenizer (its data generator counts tokens); load it here too so that
            // the comparison with M1 is about what the store keeps resident.
            _ = TiktokenCounter.Default.CountMessageTokens(new Message(MessageRole.User, "warm"));
            var rng = new Random(DataGenerator.Seed);
            for (var c = 0; c < PeakContexts; c++)
            {
                var id = shape.SessionId(rng.Next(filled));
                var session = await b.GetSessionAsync(id).ConfigureAwait(false) ?? throw new InvalidOperationException($"S2: session {id} is missing");
                await session.GetConversationContextAsync(8000).ConfigureAwait(false);
            }
        }
        PeakMemory.PrintPeak();
        return 0;
    }
}
