namespace LangSwarm.Memory;

/// <summary>
/// Copies sessions, messages and summaries from one backend to another (V1 stores exposed as a backend, or a
/// move between V2 backends), keeping ids, timestamps, token counts, statuses and summaries.
/// </summary>
public sealed class BackendMigrator : IMemoryMigrator
{
    private readonly MemoryFactory _factory;
    private readonly IMemoryBackend? _source;

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
            // The configured source serves this call only: the constructor's source stays in place.
            return await MigrateCoreAsync(source, ids.ToDictionary(i => i, i => i), targetBackend, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<MigrationReport> MigrateMessagesAsync(IReadOnlyDictionary<string, string> sessionMapping, IMemoryBackend targetBackend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionMapping);
        ArgumentNullException.ThrowIfNull(targetBackend);
        var source = _source ?? throw new MemoryConfigurationException("No source backend: pass one to the BackendMigrator constructor.");
        return await MigrateCoreAsync(source, sessionMapping, targetBackend, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<MigrationReport> MigrateCoreAsync(IMemoryBackend source, IReadOnlyDictionary<string, string> sessionMapping, IMemoryBackend targetBackend, CancellationToken cancellationToken)
    {
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
            try
            {
                messages += await CopyIntoAsync(source, src, from, dst, to, original, targetBackend, errors, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // All or nothing per session: a copy that failed part way is taken out again.
                await targetBackend.DeleteSessionAsync(to, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            migrated++;
        }
        return new MigrationReport(migrated, messages, skipped, errors);
    }

    /// <summary>Copies one session's messages, summaries and metadata into the session just created for it; returns the messages copied.</summary>
    private static async Task<long> CopyIntoAsync(IMemoryBackend source, IMemorySession src, string from, IMemorySession dst, string to, SessionMetadata original, IMemoryBackend targetBackend, List<string> errors, CancellationToken cancellationToken)
    {
        long copied = 0;
        var summaries = await src.GetSummariesAsync(cancellationToken).ConfigureAwait(false);
        if (targetBackend is MemoryBackendBase b)
        {
            // Keep the source's sequence numbers (gaps of evicted messages included): the summaries'
            // FirstSequence/LastSequence and the summarized-through mark refer to them.
            SessionSnapshot? sourceState = source is MemoryBackendBase sb && await sb.FindLinkAsync(from, cancellationToken).ConfigureAwait(false) is { } sourceLink
                ? sourceLink.Handle.State
                : null;
            var link = await b.FindLinkAsync(to, cancellationToken).ConfigureAwait(false) ?? throw new SessionNotFoundException(to);
            await link.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var handle = link.Handle;
                copied += await CopyKeepingSequencesAsync(src.StreamMessagesAsync(cancellationToken: cancellationToken), b, handle, cancellationToken).ConfigureAwait(false);
                foreach (var s in summaries)
                {
                    var copy = s.Clone();
                    copy.SessionId = to;
                    await handle.AddSummaryAsync(copy, cancellationToken).ConfigureAwait(false);
                }
                var restored = original.Clone();
                restored.SessionId = to;
                var state = handle.State;
                var summarizedThrough = sourceState?.SummarizedThrough ?? (summaries.Count > 0 ? summaries.Max(x => x.LastSequence) : 0);
                await handle.SaveAsync(restored, Math.Max(state.LastSequence, sourceState?.LastSequence ?? 0), summarizedThrough, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                link.Gate.Release();
            }
        }
        else
        {
            var batch = new List<Message>(256);
            await foreach (var m in src.StreamMessagesAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                batch.Add(m);
                if (batch.Count == 256)
                {
                    await dst.AddMessagesAsync(batch, cancellationToken).ConfigureAwait(false);
                    copied += batch.Count;
                    batch.Clear();
                }
            }
            if (batch.Count > 0)
            {
                await dst.AddMessagesAsync(batch, cancellationToken).ConfigureAwait(false);
                copied += batch.Count;
            }
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
        return copied;
    }

    /// <inheritdoc />
    public Task<bool> ValidateMigrationAsync(UsageStats sourceStats, UsageStats targetStats, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sourceStats);
        ArgumentNullException.ThrowIfNull(targetStats);
        return Task.FromResult(targetStats.TotalSessions >= sourceStats.TotalSessions && targetStats.TotalMessages >= sourceStats.TotalMessages);
    }

    /// <summary>
    /// Appends the source's live messages with their own sequence numbers, in contiguous runs: before a run
    /// that follows a gap, the stored last sequence is moved to just before it, so the store numbers the run
    /// exactly as the source did.
    /// </summary>
    internal static async Task<long> CopyKeepingSequencesAsync(IAsyncEnumerable<Message> source, MemoryBackendBase target, ISessionHandle handle, CancellationToken cancellationToken)
    {
        const int BatchSize = 256;
        var run = new List<Message>(BatchSize);
        long copied = 0;
        await foreach (var m in source.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            MessageValidator.ValidateMessage(m);
            var copy = m.Clone();
            copy.TokenCount ??= target.TokenCounter.CountMessageTokens(copy);
            var last = run.Count > 0 ? run[^1].Sequence : handle.State.LastSequence;
            if (copy.Sequence <= last)
            {
                // A source that does not number its messages (or not increasingly): number them here.
                copy.Sequence = last + 1;
            }
            if (run.Count == BatchSize || (run.Count > 0 && copy.Sequence != last + 1))
            {
                copied += await AppendRunAsync(handle, run, cancellationToken).ConfigureAwait(false);
            }
            run.Add(copy);
        }
        copied += await AppendRunAsync(handle, run, cancellationToken).ConfigureAwait(false);
        return copied;
    }

    private static async Task<int> AppendRunAsync(ISessionHandle handle, List<Message> run, CancellationToken cancellationToken)
    {
        if (run.Count == 0)
        {
            return 0;
        }
        var state = handle.State;
        if (run[0].Sequence != state.LastSequence + 1)
        {
            await handle.SaveAsync(state.Metadata, run[0].Sequence - 1, state.SummarizedThrough, cancellationToken).ConfigureAwait(false);
        }
        var at = run[^1].Timestamp > state.Metadata.UpdatedAt ? run[^1].Timestamp : state.Metadata.UpdatedAt;
        await handle.AppendAsync(run.ToArray(), at, cancellationToken).ConfigureAwait(false);
        var n = run.Count;
        run.Clear();
        return n;
    }
}
