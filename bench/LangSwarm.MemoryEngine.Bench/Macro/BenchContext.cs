namespace LangSwarm.MemoryEngine.Bench.Macro;

/// <summary>What every workload shares: sizes, data, servers, scratch space and the rows it fills.</summary>
public sealed class BenchContext(MacroOptions options, DataGenerator data, string workDir)
{
    private int _dirs;
    private Lz4Probe? _lz4;

    /// <summary>Sizes and switches.</summary>
    public MacroOptions Options { get; } = options;

    /// <summary>The generated data (fixed seed).</summary>
    public DataGenerator Data { get; } = data;

    /// <summary>Scratch directory on the disk under test.</summary>
    public string WorkDir { get; } = workDir;

    /// <summary>redis-server with <c>appendfsync always</c>, or null when redis-server is missing.</summary>
    public RedisServer? DurableRedis { get; set; }

    /// <summary>redis-server without persistence, or null when redis-server is missing.</summary>
    public RedisServer? RelaxedRedis { get; set; }

    /// <summary>The results, in table order.</summary>
    public List<Row> Rows { get; } = [];

    /// <summary>LZ4 speed, measured again beside each W3 engine repetition.</summary>
    public Lz4Probe Lz4 => _lz4 ??= new Lz4Probe(Data);

    /// <summary>The physical limits measured in this run.</summary>
    public PhysicalLimits? Limits { get; set; }

    /// <summary>A fresh scratch directory.</summary>
    public string NewDir() => Path.Combine(WorkDir, $"d{Interlocked.Increment(ref _dirs):D4}");

    /// <summary>Progress line on stderr (stdout carries the table).</summary>
    public static void Log(string line) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

    /// <summary>Deletes a scratch directory, ignoring what cannot be deleted.</summary>
    public static void Remove(string dir)
    {
        try
        {
            Directory.Delete(dir, true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Adds a row with one figure per backend spec, measured by <paramref name="measure"/>.</summary>
    public async Task<Row> MeasureRowAsync(Row row, IEnumerable<BackendSpec?> specs, Func<BackendSpec, Task<Measure>> measure)
    {
        if (!Options.Includes(row.Id))
        {
            return row;
        }
        Rows.Add(row);
        foreach (var spec in specs)
        {
            if (spec is null || !Options.IncludesBackend(spec.Column))
            {
                continue;
            }
            Log($"{row.Id} {spec.Column} ({spec.Mode}) ...");
            try
            {
                row.Cells[spec.Column] = await measure(spec).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                row.Cells[spec.Column] = Measure.NotApplicable($"failed: {ex.GetType().Name}: {ex.Message}");
                Log($"{row.Id} {spec.Column} failed: {ex}");
            }
        }
        foreach (var c in Backends.Columns.Where(c => !row.Cells.ContainsKey(c)))
        {
            row.Cells[c] = Measure.NotApplicable(c == "redis" && Options.IncludesBackend(c) ? "redis-server not found" : "not measured");
        }
        return row;
    }
}
