namespace LangSwarm.Memory;

/// <summary>
/// Copies sessions, messages and summaries from one backend to another (V1 stores exposed as a backend, or a
/// move between V2 backends), keeping ids, timestamps, token counts, statuses and summaries.
/// </summary>
public sealed class BackendMigrator : IMemoryMigrator
{
    private readonly MemoryFactory _factory;
    private IMemoryBackend? _source;

    /// <summary>Creates a migrator; <paramref name="source"/> serves <see cref="MigrateMessagesAsync"/>.</summary>
    public BackendMigrator(IMemoryBackend? source = null, MemoryFactory? factory = null)
    {
        _source = source;
        _factory = factory ?? MemoryFactory.Default;
    }

    /// <inheritdoc />
    public async Task<MigrationReport> MigrateSessionsAsync(string sourceBackend, IMemoryBackend targetBackend, int batchSize = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targetBackend);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var source = _factory.CreateBackend(MemoryConfiguration.FromString(sourceBackend));
        await using (source.ConfigureAwait(false))
        {
            await source.ConnectAsync(cancellationToken).ConfigureAwait(false);
            _source = source;
            var ids = new List<string>();
            for (var offset = 0; ; offset += batchSize)
            {
                var page = await source.ListSessionsAsync(null, null, batchSize, offset, cancellationToken).ConfigureAwait(false);
                ids.AddRange(page.Select(p => p.SessionId));
                if (page.Count < batchSize)
                {
                    break;
                }
            }
            var report = await MigrateMessagesAsync(ids.ToDictionary(i => i, i => i), targetBackend, cancellationToken).ConfigureAwait(false);
            _source = null;
            return report;
        }
    }

    /// <inheritdoc />
    public async Task<MigrationReport> MigrateMessagesAsync(IReadOnlyDictionary<string, string> sessionMapping, IMemoryBackend targetBackend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionMapping);
        ArgumentNullException.ThrowIfNull(targetBackend);
        var source = _source ?? throw new MemoryConfigurationException("No source backend: pass one to the BackendMigrator constructor.");
        if (!targetBackend.IsConnected)
        {
            await targetBackend.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        int migrated = 0, skipped = 0;
        long messages = 0;
        var errors = new List<string>();
        foreach (var (from, to) in sessionMapping)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var src = await source.GetSessionAsync(from, cancellationToken).ConfigureAwait(false);
            if (src is null)
            {
                errors.Add($"source session '{from}' does not exist");
                skipped++;
                continue;
            }
            if (await targetBackend.GetSessionAsync(to, cancellationToken).ConfigureAwait(false) is not null)
            {
                skipped++;
                continue;
            }
            var original = src.Metadata;
            var meta = original.Clone();
            meta.SessionId = to;
            meta.Status = SessionStatus.Active;
            // The copy keeps every message: limits and auto-summaries already shaped the source.
            meta.SummaryStrategy = SummaryStrategy.Manual;
            meta.MaxMessages = int.MaxValue;
            meta.MaxTokens = int.MaxValue;
            var dst = await targetBackend.CreateSessionAsync(meta, cancellationToken).ConfigureAwait(false);
            var batch = new List<Message>(256);
            await foreach (var m in src.StreamMessagesAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                batch.Add(m);
                if (batch.Count == 256)
                {
                    await dst.AddMessagesAsync(batch, cancellationToken).ConfigureAwait(false);
                    messages += batch.Count;
                    batch.Clear();
                }
            }
            if (batch.Count > 0)
            {
                await dst.AddMessagesAsync(batch, cancellationToken).ConfigureAwait(false);
                messages += batch.Count;
            }
            var summaries = await src.GetSummariesAsync(cancellationToken).ConfigureAwait(false);
            if (targetBackend is MemoryBackendBase b)
            {
                var state = await b.LoadSessionAsync(to, cancellationToken).ConfigureAwait(false) ?? throw new SessionNotFoundException(to);
                foreach (var s in summaries)
                {
                    var copy = s.Clone();
                    copy.SessionId = to;
                    await b.AppendSummaryAsync(state, copy, cancellationToken).ConfigureAwait(false);
                }
                var restored = original.Clone();
                restored.SessionId = to;
                state.Metadata = restored;
                await b.SaveSessionAsync(state, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await dst.UpdateMetadataAsync(
                    new Dictionary<string, object?>
                    {
                        ["max_messages"] = original.MaxMessages,
                        ["max_tokens"] = original.MaxTokens,
                        ["summary_strategy"] = original.SummaryStrategy.ToString(),
                        ["status"] = original.Status.ToString(),
                    },
                    cancellationToken).ConfigureAwait(false);
                if (summaries.Count > 0)
                {
                    errors.Add($"session '{from}': {summaries.Count} summaries not copied (target is not a MemoryBackendBase)");
                }
            }
            migrated++;
        }
        return new MigrationReport(migrated, messages, skipped, errors);
    }

    /// <inheritdoc />
    public Task<bool> ValidateMigrationAsync(UsageStats sourceStats, UsageStats targetStats, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sourceStats);
        ArgumentNullException.ThrowIfNull(targetStats);
        return Task.FromResult(targetStats.TotalSessions >= sourceStats.TotalSessions && targetStats.TotalMessages >= sourceStats.TotalMessages);
    }
}
