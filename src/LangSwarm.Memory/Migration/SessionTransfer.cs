namespace LangSwarm.Memory;

/// <summary>
/// Reads a whole session out of a backend and writes one into a backend, keeping everything: ids, timestamps,
/// sequence numbers (with the gaps evicted messages left), token counts, the summary chain, the status and the
/// settings. A write is all or nothing per session: the record is checked in full before anything is stored, and
/// a write that fails part way deletes the session it began.
/// </summary>
public static class SessionTransfer
{
    /// <summary>The session with this id as one record, or null when there is none.</summary>
    public static async Task<PortableSession?> ReadAsync(IMemoryBackend source, string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        MessageValidator.ValidateSessionId(sessionId);
        if (source is MemoryBackendBase backend)
        {
            return await ReadStoredAsync(backend, sessionId, cancellationToken).ConfigureAwait(false);
        }
        var session = await source.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (session is null)
        {
            return null;
        }
        var messages = await session.GetMessagesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var summaries = await session.GetSummariesAsync(cancellationToken).ConfigureAwait(false);
        var last = messages.Count > 0 ? messages[^1].Sequence : 0;
        var through = summaries.Count > 0 ? summaries.Max(s => s.LastSequence) : 0;
        return new PortableSession(session.Metadata.Clone(), Math.Max(last, through), through, messages, summaries);
    }

    /// <summary>
    /// Stores a portable session under its own id. With <paramref name="replace"/>, an existing session of that id
    /// is read in full and deleted (after the record was checked), and put back when the new one cannot be
    /// stored: replacing never loses what was there, unless putting it back fails too (both failures are then
    /// thrown together); without it, an existing one is refused.
    /// </summary>
    /// <exception cref="InvalidPortableSessionException">The record is not valid; nothing was written.</exception>
    /// <exception cref="SessionAlreadyExistsException">The id is taken and <paramref name="replace"/> is false.</exception>
    /// <exception cref="MemoryConfigurationException">The target does not derive from <see cref="MemoryBackendBase"/>.</exception>
    /// <exception cref="AggregateException">The new session could not be stored, and the old one could not be put back.</exception>
    public static async Task WriteAsync(IMemoryBackend target, PortableSession record, bool replace = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(record);
        Validate(record);
        if (target is not MemoryBackendBase backend)
        {
            throw new MemoryConfigurationException($"Backend '{target.Name}' cannot take a session with its own numbering: it does not derive from MemoryBackendBase.");
        }
        if (!target.IsConnected)
        {
            await target.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        var id = record.SessionId;
        PortableSession? previous = null;
        if (await target.GetSessionAsync(id, cancellationToken).ConfigureAwait(false) is not null)
        {
            if (!replace)
            {
                throw new SessionAlreadyExistsException(id);
            }
            previous = await ReadAsync(target, id, cancellationToken).ConfigureAwait(false);
            await target.DeleteSessionAsync(id, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            await StoreAsync(backend, record, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception failure) when (previous is not null)
        {
            try
            {
                await StoreAsync(backend, previous, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception restore)
            {
                throw new AggregateException($"Replacing session '{id}' failed, and putting the old session back failed too.", failure, restore);
            }
            throw;
        }
    }

    // Creates the session and fills it; a session written part way is deleted again, so the next import or copy
    // starts it from nothing.
    private static async Task StoreAsync(MemoryBackendBase target, PortableSession record, CancellationToken cancellationToken)
    {
        var staging = record.Metadata.Clone();
        // While it is written the session keeps every message and makes no summary of its own.
        staging.Status = SessionStatus.Active;
        staging.SummaryStrategy = SummaryStrategy.Manual;
        staging.MaxMessages = int.MaxValue;
        staging.MaxTokens = int.MaxValue;
        await target.CreateSessionAsync(staging, cancellationToken).ConfigureAwait(false);
        try
        {
            await FillAsync(target, record, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await target.DeleteSessionAsync(record.SessionId, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Checks a record in full without writing anything.</summary>
    /// <exception cref="InvalidPortableSessionException">The first problem found.</exception>
    public static void Validate(PortableSession record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var id = record.SessionId;
        try
        {
            MessageValidator.ValidateSessionId(id, "session_id");
            if (record.Metadata.UserId is not null)
            {
                MessageValidator.ValidateUserId(record.Metadata.UserId, "user_id");
            }
            MemoryLimits.ValidateSessionSettings(record.Metadata);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidPortableSessionException(id ?? string.Empty, ex.Message, ex);
        }
        if (record.LastSequence < 0 || record.SummarizedThrough < 0 || record.SummarizedThrough > record.LastSequence)
        {
            throw new InvalidPortableSessionException(id, $"last_sequence {record.LastSequence} and summarized_through {record.SummarizedThrough} must satisfy 0 <= summarized_through <= last_sequence.");
        }
        long previous = 0;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in record.Messages)
        {
            try
            {
                MessageValidator.ValidateMessage(m);
            }
            catch (InvalidMessageException ex)
            {
                throw new InvalidPortableSessionException(id, $"message {m.Sequence}: {ex.Message}", ex);
            }
            if (m.Sequence <= previous || m.Sequence > record.LastSequence)
            {
                throw new InvalidPortableSessionException(id, $"message sequence {m.Sequence} must ascend and stay within 1..last_sequence {record.LastSequence} (previous {previous}).");
            }
            if (!ids.Add(m.MessageId))
            {
                throw new InvalidPortableSessionException(id, $"message id '{m.MessageId}' appears twice.");
            }
            previous = m.Sequence;
        }
        foreach (var s in record.Summaries)
        {
            if (s.FirstSequence < 0 || s.LastSequence > record.LastSequence || s.FirstSequence > s.LastSequence + 1 || s.MessageCount < 0 || s.TokenCount < 0 || !Enum.IsDefined(s.SummaryType))
            {
                throw new InvalidPortableSessionException(id, $"summary '{s.SummaryId}' covers {s.FirstSequence}-{s.LastSequence} with {s.MessageCount} messages, which does not fit a session whose last sequence is {record.LastSequence}.");
            }
            if (!MessageValidator.IsValidUtf16(s.SummaryText) || s.SummaryText.Length > MemoryLimits.MaxSummaryLength)
            {
                throw new InvalidPortableSessionException(id, $"summary '{s.SummaryId}' text is not valid UTF-16 or is too long.");
            }
        }
    }

    private static async Task<PortableSession?> ReadStoredAsync(MemoryBackendBase backend, string sessionId, CancellationToken cancellationToken)
    {
        backend.EnsureConnected();
        var link = await backend.FindLinkAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (link is null)
        {
            return null;
        }
        await link.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = await link.Handle.RefreshAsync(cancellationToken).ConfigureAwait(false);
            var messages = new List<Message>();
            await foreach (var m in link.Handle.ReadMessagesAsync(MessageQuery.All, cancellationToken).ConfigureAwait(false))
            {
                messages.Add(m);
            }
            var summaries = await link.Handle.ReadSummariesAsync(cancellationToken).ConfigureAwait(false);
            return new PortableSession(state.Metadata.Clone(), state.LastSequence, state.SummarizedThrough, messages, summaries.Select(s => s.Clone()).ToList());
        }
        catch (SessionNotFoundException)
        {
            return null;
        }
        finally
        {
            link.Gate.Release();
        }
    }

    private static async Task FillAsync(MemoryBackendBase target, PortableSession record, CancellationToken cancellationToken)
    {
        var link = await target.FindLinkAsync(record.SessionId, cancellationToken).ConfigureAwait(false) ?? throw new SessionNotFoundException(record.SessionId);
        await link.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var handle = link.Handle;
            await BackendMigrator.CopyKeepingSequencesAsync(record.Messages.ToAsyncEnumerable(), target, handle, cancellationToken).ConfigureAwait(false);
            foreach (var s in record.Summaries)
            {
                var copy = s.Clone();
                copy.SessionId = record.SessionId;
                await handle.AddSummaryAsync(copy, cancellationToken).ConfigureAwait(false);
            }
            var state = handle.State;
            await handle.SaveAsync(record.Metadata.Clone(), Math.Max(state.LastSequence, record.LastSequence), record.SummarizedThrough, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            link.Gate.Release();
        }
    }
}
