using LangSwarm.Memory.Sqlite;

namespace LangSwarm.Memory.Cli;

/// <summary>What a migration did and what its verify found.</summary>
internal sealed record MigrateResult(int Copied, int Recopied, int Identical, int Conflicts, int Failed, long Messages, int Verified, IReadOnlyList<string> Problems, IReadOnlyList<string> Notes)
{
    /// <summary>True when every session is in the target as in the source.</summary>
    public bool Ok => Conflicts == 0 && Failed == 0 && Problems.Count == 0;
}

/// <summary>
/// Copies every session of a source into a target, resumably: a session the target already holds identically
/// (same export bytes) is skipped, a partial copy an interrupted run left (its messages and summaries a prefix of
/// the source's) is deleted and copied again, any other session of the same id is a conflict that is reported and
/// left alone (unless told to replace it). Then, unless told not to, every session is compared again.
/// Backend sources are copied by <see cref="BackendMigrator"/>, V1 stores by <see cref="V1MemoryMigrator"/>'s mapping.
/// </summary>
internal sealed class MigrationRunner(IMemoryBackend target, bool replace)
{
    private readonly List<string> _problems = [];
    private readonly List<string> _notes = [];
    private int _copied, _recopied, _identical, _conflicts, _failed, _verified;
    private long _messages;

    /// <summary>Called after each session is handled (tests interrupt a run here).</summary>
    public Action<int>? AfterSession { get; init; }

    /// <summary>Migrates from a V2 backend.</summary>
    public async Task<MigrateResult> FromBackendAsync(IMemoryBackend source, bool verify, ProgressTicker progress, CancellationToken ct)
    {
        var ids = await SessionIds.ListAsync(source, null, ct);
        progress.SetTotal(verify ? ids.Count * 2L : ids.Count);
        var migrator = new BackendMigrator(source);
        foreach (var id in ids)
        {
            if (await SessionTransfer.ReadAsync(source, id, ct) is { } record)
            {
                await OneAsync(record, async () =>
                {
                    var report = await migrator.MigrateMessagesAsync(new Dictionary<string, string> { [id] = id }, target, ct);
                    _problems.AddRange(report.Errors);
                }, ct);
            }
            progress.Advance();
        }
        if (verify)
        {
            foreach (var id in ids)
            {
                await VerifyAsync(await SessionTransfer.ReadAsync(source, id, ct), id, ct);
                progress.Advance();
            }
        }
        return Result();
    }

    /// <summary>Migrates from a LangSwarm V1 SQLite session store.</summary>
    public async Task<MigrateResult> FromV1Async(V1MemoryMigrator source, bool verify, ProgressTicker progress, CancellationToken ct)
    {
        var total = await source.CountSessionsAsync(ct);
        progress.SetTotal(verify ? total * 2 : total);
        await foreach (var v1 in source.ReadSessionsAsync(ct))
        {
            _notes.AddRange(v1.Notes);
            if (v1.Record is { } record)
            {
                await OneAsync(record, () => SessionTransfer.WriteAsync(target, Normalized(record), replace: false, ct), ct);
            }
            else
            {
                _failed++;
                _problems.Add(v1.Error!);
            }
            progress.Advance();
        }
        if (verify)
        {
            await foreach (var v1 in source.ReadSessionsAsync(ct))
            {
                if (v1.Record is { } record)
                {
                    await VerifyAsync(record, record.SessionId, ct);
                }
                progress.Advance();
            }
        }
        return Result();
    }

    private async Task OneAsync(PortableSession source, Func<Task> copy, CancellationToken ct)
    {
        var wanted = Normalized(source);
        var id = wanted.SessionId;
        var again = false;
        if (await SessionTransfer.ReadAsync(target, id, ct) is { } existing)
        {
            if (SessionJsonl.ToText(existing) == SessionJsonl.ToText(wanted))
            {
                _identical++;
                AfterSession?.Invoke(Handled);
                return;
            }
            if (!replace && !IsPartialCopy(existing, wanted))
            {
                _conflicts++;
                _problems.Add($"session '{id}' exists in the target with other content; left alone (--replace copies over it)");
                AfterSession?.Invoke(Handled);
                return;
            }
            await target.DeleteSessionAsync(id, ct);
            again = true;
        }
        try
        {
            await copy();
            _messages += wanted.Messages.Count;
            if (again)
            {
                _recopied++;
            }
            else
            {
                _copied++;
            }
        }
        catch (Exception ex) when (ex is MemoryException or System.Data.Common.DbException or IOException)
        {
            // The copy is all or nothing (the migrators take a part-written session out again): report and go on.
            _failed++;
            _problems.Add($"session '{id}' not copied: {ex.Message}");
        }
        AfterSession?.Invoke(Handled);
    }

    private async Task VerifyAsync(PortableSession? source, string id, CancellationToken ct)
    {
        if (source is null)
        {
            return; // gone from the source since it was copied
        }
        var copy = await SessionTransfer.ReadAsync(target, id, ct);
        if (copy is null)
        {
            _problems.Add($"verify: session '{id}' is not in the target");
        }
        else if (SessionJsonl.ToText(copy) != SessionJsonl.ToText(Normalized(source)))
        {
            _problems.Add($"verify: session '{id}' differs between source and target");
        }
        else
        {
            _verified++;
        }
    }

    /// <summary>
    /// The record as the target will store it: messages without a token count get the target's count (a V1
    /// store has none), so a copy and its source compare equal.
    /// </summary>
    private PortableSession Normalized(PortableSession record)
    {
        if (target is not MemoryBackendBase b || record.Messages.All(m => m.TokenCount is not null))
        {
            return record;
        }
        var messages = record.Messages.Select(m =>
        {
            var copy = m.Clone();
            copy.TokenCount ??= b.TokenCounter.CountMessageTokens(copy);
            return copy;
        }).ToList();
        return new PortableSession(record.Metadata, record.LastSequence, record.SummarizedThrough, messages, record.Summaries);
    }

    private static bool IsPartialCopy(PortableSession existing, PortableSession source)
    {
        if (existing.Messages.Count > source.Messages.Count || existing.Summaries.Count > source.Summaries.Count)
        {
            return false;
        }
        for (var i = 0; i < existing.Messages.Count; i++)
        {
            if (SessionJsonl.MessageLine(existing.Messages[i]) != SessionJsonl.MessageLine(source.Messages[i]))
            {
                return false;
            }
        }
        for (var i = 0; i < existing.Summaries.Count; i++)
        {
            if (SessionJsonl.SummaryLine(existing.Summaries[i]) != SessionJsonl.SummaryLine(source.Summaries[i]))
            {
                return false;
            }
        }
        return true;
    }

    private int Handled => _copied + _recopied + _identical + _conflicts + _failed;

    private MigrateResult Result() => new(_copied, _recopied, _identical, _conflicts, _failed, _messages, _verified, _problems, _notes);
}
