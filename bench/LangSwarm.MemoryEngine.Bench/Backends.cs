using LangSwarm.Memory;
using LangSwarm.Memory.Redis;
using LangSwarm.Memory.Sqlite;
using LangSwarm.MemoryEngine.Bench.Macro;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Bench;

/// <summary>A backend in one durability mode, as a table column sees it.</summary>
/// <param name="Column">engine, sqlite or redis.</param>
/// <param name="Mode">The durability setting, as the report prints it.</param>
/// <param name="Create">Makes a backend over a fresh directory (not yet connected).</param>
/// <param name="Redis">The server for Redis columns.</param>
public sealed record BackendSpec(string Column, string Mode, Func<string, IMemoryBackend> Create, RedisServer? Redis = null)
{
    /// <summary>Creates, connects and (for Redis) empties the server first.</summary>
    public async Task<IMemoryBackend> OpenAsync(string dir)
    {
        if (Redis is not null)
        {
            await Redis.FlushAsync().ConfigureAwait(false);
        }
        Directory.CreateDirectory(dir);
        var b = Create(dir);
        await b.ConnectAsync().ConfigureAwait(false);
        return b;
    }
}

/// <summary>The backends under test and the settings every workload shares.</summary>
public static class Backends
{
    /// <summary>The table's columns, in order.</summary>
    public static readonly string[] Columns = ["engine", "sqlite", "redis"];

    /// <summary>The fixed key of the encrypted rows (a bench key, not a secret).</summary>
    private static readonly EncryptionKey BenchKey = new(Enumerable.Range(1, EncryptionKey.Size).Select(i => (byte)(i * 7)).ToArray());

    /// <summary>The engine in a durability mode; <paramref name="encrypted"/> seals records and index pages (AES-256-GCM, FORMAT.md §13).</summary>
    public static BackendSpec Engine(DurabilityMode mode, bool encrypted = false) =>
        new("engine", encrypted ? $"{mode}, encrypted" : mode.ToString(), dir => new EngineBackend(new EngineOptions
        {
            Path = Path.Combine(dir, "store"),
            Durability = mode,
            Encryption = encrypted ? KeyProvider.FromKey(BenchKey) : null,
        }));

    /// <summary>
    /// The same row with the engine encrypted: measured right after the plain one (engine column only), judged
    /// against it in the same run (issue 17: within 15%).
    /// </summary>
    public static Row Encrypted(Row plain)
    {
        var row = new Row(plain.Id, plain.Title + " — engine encrypted (AES-256-GCM), beside the row above", plain.Unit, plain.HigherIsBetter)
        {
            Target = Targets.WithinOfRow(plain, 0.15, "encrypted within 15% of the same row without encryption"),
        };
        foreach (var column in Columns.Where(c => c != "engine"))
        {
            row.Cells[column] = Measure.NotApplicable("engine only (no built-in encryption)");
        }
        return row;
    }

    /// <summary>True for a row <see cref="Encrypted"/> made.</summary>
    public static bool IsEncrypted(Row row) => row.Title.EndsWith("beside the row above", StringComparison.Ordinal);

    /// <summary>SQLite in WAL mode with a synchronous setting.</summary>
    public static BackendSpec Sqlite(SqliteDurability durability) =>
        new("sqlite", $"WAL, synchronous={durability.ToString().ToUpperInvariant()}", dir => new SqliteBackend(new SqliteBackendOptions
        {
            DbPath = Path.Combine(dir, "bench.db"),
            EnableWal = true,
            Durability = durability,
        }));

    /// <summary>Redis on a harness-owned server (or a column saying why it is missing).</summary>
    public static BackendSpec? Redis(RedisServer? server)
    {
        if (server is null)
        {
            return null;
        }
        var mode = server.Persistence == RedisPersistence.AppendFsyncAlways ? "appendfsync always" : "appendonly no";
        return new BackendSpec("redis", mode, _ => new RedisBackend(new RedisBackendOptions { Host = "127.0.0.1", Port = server.Port, KeyPrefix = "bench", TtlSeconds = null }), server);
    }

    /// <summary>Session metadata for benchmark sessions: no eviction within 1,000,000 messages, no automatic summaries.</summary>
    public static SessionMetadata Session(string id, string? user = null) => new(id, user)
    {
        MaxMessages = 10_000_000,
        MaxTokens = int.MaxValue / 2,
        AutoSummarizeThreshold = int.MaxValue / 2,
        SummaryStrategy = SummaryStrategy.Manual,
    };

    /// <summary>Bytes of every file under a directory.</summary>
    public static long DirectoryBytes(string dir) =>
        Directory.Exists(dir) ? new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;
}
