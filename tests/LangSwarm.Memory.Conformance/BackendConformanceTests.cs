using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>
/// The conformance suite every backend passes unchanged. A backend's test class derives from it and says how
/// to create a fresh, empty backend (and, for persistent ones, how to reopen it from its storage).
/// </summary>
public abstract partial class BackendConformanceTests : IAsyncLifetime
{
    private IMemoryBackend? _backend;

    /// <summary>The backend under test, connected.</summary>
    protected IMemoryBackend Backend => _backend ?? throw new InvalidOperationException("Backend not created yet.");

    /// <summary>A new backend over new, empty storage. It may be connected or not.</summary>
    protected abstract Task<IMemoryBackend> CreateBackendAsync();

    /// <summary>
    /// Closes <paramref name="backend"/> and opens its storage again. Persistent backends return a new instance
    /// over the same files or server; the default reconnects the same instance.
    /// </summary>
    protected virtual async Task<IMemoryBackend> ReopenAsync(IMemoryBackend backend)
    {
        await backend.DisconnectAsync();
        await backend.ConnectAsync();
        return backend;
    }

    /// <summary>Removes what <see cref="CreateBackendAsync"/> made (files, keys). Called after the backend is disposed.</summary>
    protected virtual Task CleanupStorageAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _backend = await CreateBackendAsync();
        if (!_backend.IsConnected)
        {
            await _backend.ConnectAsync();
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_backend is not null)
        {
            await _backend.DisposeAsync();
        }
        await CleanupStorageAsync();
    }

    /// <summary>Waits (at most 30 s) until the background summarizer has caught up with every add so far.</summary>
    protected async Task IdleAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Backend.WhenSummariesIdleAsync(timeout.Token);
    }

    /// <summary>Adds one message and waits for the automatic summaries and evictions it causes.</summary>
    protected async Task AddAndSettleAsync(IMemorySession session, Message message)
    {
        await session.AddMessageAsync(message);
        await IdleAsync();
    }

    /// <summary>Swaps in the reopened backend.</summary>
    protected async Task ReopenBackendAsync() => _backend = await ReopenAsync(Backend);

    /// <summary>A text message with a fixed token count, so budgets are exact in tests.</summary>
    protected static Message Msg(MessageRole role, string content, int tokens = 10) =>
        new(role, content) { TokenCount = tokens };

    /// <summary>An assistant turn calling one tool.</summary>
    protected static Message ToolCall(string callId, string function = "get_weather", int tokens = 10) => new(MessageRole.Assistant, string.Empty)
    {
        TokenCount = tokens,
        ToolCalls =
        [
            new JsonObject
            {
                ["id"] = callId,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = function, ["arguments"] = "{\"location\":\"Paris\"}" },
            },
        ],
    };

    /// <summary>A tool result answering <paramref name="callId"/>.</summary>
    protected static Message ToolResult(string callId, string content = "{\"temperature\":21}", int tokens = 10)
    {
        var m = new Message(MessageRole.Tool, content) { TokenCount = tokens };
        m.Metadata["tool_call_id"] = callId;
        return m;
    }

    /// <summary>Creates a session with a fresh id, manual summaries and roomy limits unless configured.</summary>
    protected async Task<IMemorySession> NewSessionAsync(string? userId = "user-1", Action<SessionMetadata>? configure = null, string? id = null)
    {
        var meta = new SessionMetadata(id ?? "s-" + Guid.NewGuid().ToString("N")[..12], userId)
        {
            SummaryStrategy = SummaryStrategy.Manual,
        };
        configure?.Invoke(meta);
        return await Backend.CreateSessionAsync(meta);
    }

    /// <summary>Asserts two messages are equal in every stored field.</summary>
    protected static void AssertSameMessage(Message expected, Message actual)
    {
        Assert.Equal(expected.Role, actual.Role);
        Assert.Equal(expected.Content, actual.Content);
        Assert.Equal(expected.MessageId, actual.MessageId);
        Assert.Equal(expected.Timestamp.UtcTicks, actual.Timestamp.UtcTicks);
        Assert.Equal(TimeSpan.Zero, actual.Timestamp.Offset);
        Assert.Equal(expected.TokenCount, actual.TokenCount);
        Assert.Equal(expected.Metadata.ToJsonString(), actual.Metadata.ToJsonString());
        Assert.Equal(expected.FunctionCall?.ToJsonString(), actual.FunctionCall?.ToJsonString());
        Assert.Equal(expected.ToolCalls?.ToJsonString(), actual.ToolCalls?.ToJsonString());
        if (expected.Sequence != 0)
        {
            Assert.Equal(expected.Sequence, actual.Sequence);
        }
    }
}
