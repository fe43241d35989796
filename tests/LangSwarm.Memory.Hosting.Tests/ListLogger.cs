using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>A logger that keeps every entry (id, level, formatted text, exception message).</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(int Id, LogLevel Level, string Text)> EntriesQueue { get; } = new();

    public IReadOnlyList<(int Id, LogLevel Level, string Text)> Entries => EntriesQueue.ToList();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        EntriesQueue.Enqueue((eventId.Id, logLevel, formatter(state, exception) + " " + exception?.Message));
}

/// <summary>Hands out one <see cref="ListLogger"/> for every category.</summary>
internal sealed class ListLoggerProvider(ListLogger logger) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void Dispose()
    {
    }
}
