using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LangSwarm.MemoryEngine;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>
/// Logs and errors never carry what a conversation holds: a realistic workload on the in-memory and the engine
/// backend, with secret markers in message content, metadata values, tool-call arguments and summaries, logged at
/// Trace through a real <see cref="ILoggerProvider"/>, plus the errors bad input, a failing summarizer and a
/// missing session provoke. No log text, structured log value, scope, exception (inner ones included) or health
/// report may hold a marker. Ids may appear; content, metadata values and tool arguments may not.
/// </summary>
public sealed class SecretsInLogsTests : IDisposable
{
    private const string ContentSecret = "SECRET-CONTENT-7f3a";
    private const string MetadataSecret = "SECRET-METAVALUE-91c2";
    private const string ArgumentSecret = "SECRET-TOOLARG-4d5e";
    private const string SummarySecret = "SECRET-SUMMARY-b81f";
    private static readonly string[] Secrets = [ContentSecret, MetadataSecret, ArgumentSecret, SummarySecret];

    private readonly CapturingLoggerProvider _logs = new();
    private readonly ILoggerFactory _factory;
    private readonly List<string> _errors = [];
    private readonly TempDir _dir = new();

    public SecretsInLogsTests() => _factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));

    public void Dispose()
    {
        _factory.Dispose();
        _dir.Dispose();
    }

    /// <summary>A summarizer whose summaries hold a secret, as a model's summary of secret content would.</summary>
    private sealed class SecretSummarizer : ISummarizer
    {
        public Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default) =>
            Task.FromResult($"{SummarySecret}: {messages.Count} messages, the first says {messages[0].Content.Length} characters.");
    }

    /// <summary>A summarizer whose model is down (its own message holds nothing of the conversation).</summary>
    private sealed class FailingSummarizer : ISummarizer
    {
        public Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default) =>
            Task.FromException<string>(new HttpRequestException("The summary model answered 503.", new TimeoutException("upstream timed out")));
    }

    private MemoryBackendBase Create(string backend)
    {
        MemoryBackendBase b = backend == "engine"
            ? new EngineBackend(new EngineOptions { Path = _dir.Path, Durability = DurabilityMode.Strict, CheckpointLogBytes = EngineOptions.MinFileBytes }, summarizer: new SecretSummarizer())
            : new InMemoryBackend(summarizer: new SecretSummarizer());
        b.Logger = _factory.CreateLogger("LangSwarm.Memory");
        return b;
    }

    private static JsonArray SecretToolCalls(string callId) =>
    [
        new JsonObject
        {
            ["id"] = callId,
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = "lookup_account", ["arguments"] = $"{{\"api_key\":\"{ArgumentSecret}\",\"query\":\"balance\"}}" },
        },
    ];

    private static Message SecretMessage(MessageRole role, int i)
    {
        var m = new Message(role, $"turn {i}: my password is {ContentSecret}. Please keep it.");
        m.Metadata["note"] = $"{MetadataSecret} {i}";
        m.Metadata["nested"] = new JsonObject { ["token"] = MetadataSecret };
        return m;
    }

    /// <summary>Runs <paramref name="action"/>, which must fail; keeps the whole exception text.</summary>
    private async Task ExpectFailureAsync(string what, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception ex)
        {
            _errors.Add($"{what}: {ex}");
            return;
        }
        Assert.Fail($"{what} did not fail.");
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("engine")]
    public async Task No_log_exception_or_health_report_holds_content_metadata_values_tool_arguments_or_summaries(string backendName)
    {
        var backend = Create(backendName);
        await using (var manager = new MemoryManager(backend))
        {
            await backend.ConnectAsync(Ct.Token);
            var session = await backend.CreateSessionAsync(
                new SessionMetadata("secret-session", "alice")
                {
                    SummaryStrategy = SummaryStrategy.Periodic,
                    AutoSummarizeThreshold = 3,
                    MaxMessages = 6,
                    Metadata = new JsonObject { ["crm_token"] = MetadataSecret },
                },
                Ct.Token);

            // The workload: messages, a tool call with secret arguments and its result, a batch, automatic
            // summaries and the evictions they allow, a manual summary, reads, a metadata update.
            for (var i = 0; i < 4; i++)
            {
                await session.AddMessageAsync(SecretMessage(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, i), Ct.Token);
            }
            var call = new Message(MessageRole.Assistant, string.Empty) { ToolCalls = SecretToolCalls("call_1") };
            var result = new Message(MessageRole.Tool, $"{{\"balance\":\"{ContentSecret}\"}}");
            result.Metadata["tool_call_id"] = "call_1";
            await session.AddMessagesAsync([call, result, SecretMessage(MessageRole.Assistant, 4)], Ct.Token);
            await session.AddMessageAsync(new Message(MessageRole.Assistant, "calling") { FunctionCall = new JsonObject { ["name"] = "f", ["arguments"] = new JsonObject { ["secret"] = ArgumentSecret } } }, Ct.Token);
            await backend.WhenSummariesIdleAsync(Ct.Token);
            await session.AddMessageAsync(SecretMessage(MessageRole.User, 5), Ct.Token);
            var summary = await session.CreateSummaryAsync(SummaryType.Manual, Ct.Token);
            Assert.Contains(SummarySecret, summary.SummaryText, StringComparison.Ordinal);
            Assert.NotEmpty(await session.GetConversationContextAsync(4000, Ct.Token));
            Assert.NotEmpty(await session.GetRecentMessagesAsync(4000, Ct.Token));
            await session.UpdateMetadataAsync(new Dictionary<string, object?> { ["api_secret"] = MetadataSecret, ["max_tokens"] = 50_000 }, Ct.Token);

            // A chat client with memory logs what it loads and stores.
            using (var services = new ServiceCollection().AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs)).BuildServiceProvider())
            {
                using var chat = new ChatClientBuilder(new RecordingChatClient(RecordingChatClient.WeatherScript)).UseLangSwarmMemory(manager, o => o.SessionId = "secret-chat").Build(services);
                var reply = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, $"remember {ContentSecret}")], cancellationToken: Ct.Token);
                Assert.Contains(ContentSecret, reply.Text, StringComparison.Ordinal);
            }

            // Bad input, rejected by validation, each holding a secret.
            await ExpectFailureAsync("oversized content", () => session.AddMessageAsync(new Message(MessageRole.User, ContentSecret + new string('x', MemoryLimits.MaxContentLength)), Ct.Token));
            await ExpectFailureAsync("content with an unpaired surrogate", () => session.AddMessageAsync(new Message(MessageRole.User, ContentSecret + "\uD800"), Ct.Token));
            await ExpectFailureAsync("metadata value with an unpaired surrogate", () =>
            {
                var m = new Message(MessageRole.User, ContentSecret);
                m.Metadata["k"] = MetadataSecret + "\uDC00";
                return session.AddMessageAsync(m, Ct.Token);
            });
            await ExpectFailureAsync("metadata too long", () =>
            {
                var m = new Message(MessageRole.User, ContentSecret);
                m.Metadata["k"] = string.Concat(Enumerable.Repeat(MetadataSecret, (MemoryLimits.MaxJsonLength / MetadataSecret.Length) + 1));
                return session.AddMessageAsync(m, Ct.Token);
            });
            await ExpectFailureAsync("metadata a number JSON cannot write", () =>
            {
                var m = new Message(MessageRole.User, ContentSecret);
                m.Metadata["k"] = MetadataSecret;
                m.Metadata["n"] = double.NaN;
                return session.AddMessageAsync(m, Ct.Token);
            });
            await ExpectFailureAsync("tool arguments with a duplicate key", () =>
            {
                var calls = JsonNode.Parse("""[{"id":"c","type":"function","function":{"name":"f","arguments":{"K":1,"K":2}}}]""".Replace("K", ArgumentSecret, StringComparison.Ordinal))!.AsArray();
                return session.AddMessageAsync(new Message(MessageRole.Assistant, string.Empty) { ToolCalls = calls }, Ct.Token);
            });
            await ExpectFailureAsync("too many tool calls", () =>
            {
                var calls = new JsonArray();
                for (var i = 0; i <= MemoryLimits.MaxToolCallsPerMessage; i++)
                {
                    calls.Add(SecretToolCalls($"call_{i}")[0]!.DeepClone());
                }
                return session.AddMessageAsync(new Message(MessageRole.Assistant, string.Empty) { ToolCalls = calls }, Ct.Token);
            });
            await ExpectFailureAsync("malformed tool call", () =>
                session.AddMessageAsync(new Message(MessageRole.Assistant, string.Empty) { ToolCalls = [new JsonObject { ["id"] = "c", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = 5 }, ["extra"] = ArgumentSecret }] }, Ct.Token));
            await ExpectFailureAsync("batch too large", () => session.AddMessagesAsync(Enumerable.Range(0, MemoryLimits.MaxMessagesPerBatch + 1).Select(i => SecretMessage(MessageRole.User, i)), Ct.Token));
            await ExpectFailureAsync("metadata update: a secret where an integer belongs", () => session.UpdateMetadataAsync(new Dictionary<string, object?> { ["max_tokens"] = MetadataSecret }, Ct.Token));
            await ExpectFailureAsync("metadata update: a secret where a number belongs", () => session.UpdateMetadataAsync(new Dictionary<string, object?> { ["eviction_low_water"] = MetadataSecret }, Ct.Token));
            await ExpectFailureAsync("metadata update: a secret where a status belongs", () => session.UpdateMetadataAsync(new Dictionary<string, object?> { ["status"] = MetadataSecret }, Ct.Token));
            await ExpectFailureAsync("metadata update: a secret JSON element where an integer belongs", () =>
                session.UpdateMetadataAsync(new Dictionary<string, object?> { ["max_messages"] = JsonDocument.Parse($"\"{MetadataSecret}\"").RootElement }, Ct.Token));
            await ExpectFailureAsync("metadata update: too deep", () =>
            {
                JsonNode deep = MetadataSecret;
                for (var i = 0; i < MemoryLimits.MaxJsonDepth + 1; i++)
                {
                    deep = new JsonObject { ["d"] = deep };
                }
                return session.UpdateMetadataAsync(new Dictionary<string, object?> { ["deep"] = deep }, Ct.Token);
            });
            await ExpectFailureAsync("session metadata with an unpaired surrogate", () =>
                backend.CreateSessionAsync(new SessionMetadata("bad-meta", "alice") { Metadata = new JsonObject { ["k"] = MetadataSecret + "\uD800" } }, Ct.Token));

            // An import of a damaged export: a line of broken JSON, a message over the content limit.
            var exported = (await SessionTransfer.ReadAsync(backend, "secret-session", Ct.Token))!;
            var lines = SessionJsonl.ToText(exported).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
            var broken = lines.ToList();
            var at = broken.FindIndex(1, l => l.Contains(ContentSecret, StringComparison.Ordinal));
            broken[at] = broken[at][..(broken[at].IndexOf(ContentSecret, StringComparison.Ordinal) + ContentSecret.Length)] + "\"\"" + ContentSecret;
            await foreach (var entry in SessionJsonlReader.ReadAsync(new StringReader(string.Join('\n', broken)), Ct.Token))
            {
                Assert.NotNull(entry.Error);
                _errors.Add($"import: {entry.Error}");
            }
            var first = exported.Messages[0];
            var huge = new PortableSession(
                new SessionMetadata("imported", "alice"),
                exported.LastSequence,
                0,
                [new Message(first.Role, ContentSecret + new string('y', MemoryLimits.MaxContentLength)) { MessageId = first.MessageId, Sequence = first.Sequence, Timestamp = first.Timestamp }],
                []);
            await ExpectFailureAsync("import of a message over the content limit", () => SessionTransfer.WriteAsync(backend, huge, cancellationToken: Ct.Token));

            // A summarizer that throws: on a manual summary, and in the background (logged, retried, reported).
            backend.Summarizer = new FailingSummarizer();
            await session.AddMessageAsync(SecretMessage(MessageRole.User, 6), Ct.Token);
            await ExpectFailureAsync("failing summarizer", () => session.CreateSummaryAsync(cancellationToken: Ct.Token));
            for (var i = 7; i < 12; i++)
            {
                await session.AddMessageAsync(SecretMessage(MessageRole.User, i), Ct.Token);
            }
            var waited = 0;
            while (!_logs.Entries.Any(e => e.EventId == MemoryEventIds.SummaryFailed) && waited++ < 200)
            {
                await Task.Delay(50, Ct.Token);
            }
            Assert.Contains(_logs.Entries, e => e.EventId == MemoryEventIds.SummaryFailed);
            var health = await backend.HealthCheckAsync(Ct.Token);
            _errors.Add("health: " + JsonSerializer.Serialize(health));
            Assert.NotNull(health.LastError);

            // A session that is not there (or no longer).
            await ExpectFailureAsync("a second session of the same id", () => backend.CreateSessionAsync(new SessionMetadata("secret-session", "alice") { Metadata = new JsonObject { ["k"] = MetadataSecret } }, Ct.Token));
            var doomed = await backend.CreateSessionAsync(new SessionMetadata("doomed", "bob"), Ct.Token);
            await doomed.AddMessageAsync(SecretMessage(MessageRole.User, 0), Ct.Token);
            await doomed.DeleteSessionAsync(Ct.Token);
            await ExpectFailureAsync("add to a deleted session", () => doomed.AddMessageAsync(SecretMessage(MessageRole.User, 1), Ct.Token));
            await ExpectFailureAsync("summary of a deleted session", () => doomed.CreateSummaryAsync(cancellationToken: Ct.Token));
            await ExpectFailureAsync("delete of a deleted session", () => doomed.DeleteSessionAsync(Ct.Token));
            Assert.Null(await backend.GetSessionAsync("never-was", Ct.Token));
            var archived = await backend.CreateSessionAsync(new SessionMetadata("archived", "bob"), Ct.Token);
            await archived.ArchiveSessionAsync(Ct.Token);
            await ExpectFailureAsync("add to an archived session", () => archived.AddMessageAsync(SecretMessage(MessageRole.User, 0), Ct.Token));
            backend.Summarizer = new SecretSummarizer();
        }

        if (backendName == "engine")
        {
            // Reopen (recovery, checkpoint and open logs), read back, vacuum.
            await using var reopened = new EngineBackend(_dir.Path) { Logger = _factory.CreateLogger("LangSwarm.Memory") };
            await reopened.ConnectAsync(Ct.Token);
            var back = (await reopened.GetSessionAsync("secret-session", Ct.Token))!;
            Assert.Contains(await back.GetMessagesAsync(cancellationToken: Ct.Token), m => m.Content.Contains(ContentSecret, StringComparison.Ordinal));
            await reopened.VacuumAsync(0, Ct.Token);
            await reopened.VerifyAsync(Ct.Token);
        }

        var entries = _logs.Entries;
        Assert.Contains(entries, e => e.EventId == MemoryEventIds.BackendConnected);
        Assert.Contains(entries, e => e.EventId == MemoryEventIds.HistoryStored);
        Assert.True(_errors.Count >= 20, $"only {_errors.Count} errors were provoked");
        foreach (var secret in Secrets)
        {
            Assert.All(entries, e => Assert.DoesNotContain(secret, e.Text, StringComparison.Ordinal));
            Assert.All(_errors, e => Assert.DoesNotContain(secret, e, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// A logger provider that keeps, for every entry of every category at every level, the formatted message,
    /// each structured value, and the exception's full text (type, message, inner exceptions, stack); and every
    /// scope's state.
    /// </summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<(int EventId, string Text)> _entries = new();

        public IReadOnlyList<(int EventId, string Text)> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                owner._entries.Enqueue((0, $"{category} scope: {Values(state)}"));
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var text = new StringBuilder()
                    .Append(category).Append(' ').Append(logLevel).Append(' ').Append(eventId.Id).Append(": ")
                    .Append(formatter(state, exception)).Append(" | ").Append(Values(state));
                if (exception is not null)
                {
                    text.Append('\n').Append(exception);
                }
                owner._entries.Enqueue((eventId.Id, text.ToString()));
            }

            private static string Values<TState>(TState state) =>
                state is IEnumerable<KeyValuePair<string, object?>> values
                    ? string.Join(", ", values.Select(v => $"{v.Key}={v.Value}"))
                    : state?.ToString() ?? string.Empty;
        }
    }
}
