using LangSwarm.Memory;
using Microsoft.Extensions.Logging;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>A store is its owner's alone on Unix: directories 0700, files 0600, and an open refuses (or warns of) a store others can write.</summary>
public sealed class PermissionTests : IDisposable
{
    private const UnixFileMode OthersAny = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly TempStore _dir = new();

    private async Task FillAsync(PermissionCheck check = PermissionCheck.Refuse, ILogger? logger = null, bool vacuum = true)
    {
        await using var backend = new EngineBackend(new EngineOptions { Path = _dir.Path, Permissions = check, SegmentMaxBytes = 4096, PackSessionsIdleFor = TimeSpan.Zero });
        if (logger is not null)
        {
            backend.Logger = logger;
        }
        await backend.ConnectAsync();
        for (var s = 0; s < 3; s++)
        {
            var session = await backend.GetSessionAsync($"s{s}") ?? await backend.CreateSessionAsync(new SessionMetadata($"s{s}", "u") { SummaryStrategy = SummaryStrategy.Manual });
            for (var i = 0; i < 30; i++)
            {
                await session.AddMessageAsync(new Message(MessageRole.User, $"message {i} " + new string('x', 200)));
            }
        }
        if (vacuum)
        {
            await backend.VacuumAsync(0.0); // packs too
        }
    }

    [Fact]
    public async Task EveryDirectoryAndFileTheStoreCreates_IsTheOwnersOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // ACLs, not modes
        }
        await FillAsync(vacuum: false);
        AssertOwnersOnly(".seg");
        await FillAsync();
        AssertOwnersOnly(".pack");
    }

    private void AssertOwnersOnly(string expectedKind)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var dirs = Directory.EnumerateDirectories(_dir.Path, "*", SearchOption.AllDirectories).Prepend(_dir.Path).ToList();
        var files = Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.EndsWith(expectedKind, StringComparison.Ordinal));
        foreach (var path in dirs.Concat(files))
        {
            Assert.True((File.GetUnixFileMode(path) & OthersAny) == 0, $"{path}: {File.GetUnixFileMode(path)}");
        }
    }

    [Fact]
    public async Task AStoreOthersCanWrite_IsRefused_OrWarnedOf_OrLeftAlone_AsTheOptionSays()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        await FillAsync();
        var wal = Path.Combine(_dir.Path, "wal");
        File.SetUnixFileMode(wal, File.GetUnixFileMode(wal) | UnixFileMode.GroupWrite);

        var refused = await Assert.ThrowsAsync<StorePermissionException>(() => FillAsync());
        Assert.Contains("wal", refused.Message, StringComparison.Ordinal);

        var logger = new CollectingLogger();
        await FillAsync(PermissionCheck.Warn, logger);
        Assert.Contains(logger.Lines, l => l.Contains("wal", StringComparison.Ordinal) && l.Contains("other", StringComparison.Ordinal));

        await FillAsync(PermissionCheck.Ignore);
    }

    public void Dispose() => _dir.Dispose();

    private sealed class CollectingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }
}
