using System.Buffers;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// Segment appends an unclean open owes (FORMAT.md §8 step 3): the open places each log record past the
/// checkpoint in its session's segments without writing it, and the bytes go there later, from the log, before
/// anything uses that session's segments. So an open after a crash costs the log it reads, not one file
/// operation per session the log names. Owned by <see cref="SegmentFiles"/>, which settles a session's debt
/// before any operation on its segments; a checkpoint, the sweep and the verifier settle all of it first, and
/// the logs the records come from are deleted only by a checkpoint, after that.
/// </summary>
/// <remarks>
/// Settling a session cuts its last checkpointed segment back to the checkpointed length (whatever the crash
/// left past it is a prefix of the log's records or a torn write), writes the owed records in log order (a
/// record that started a segment creates it, as the writer did), and deletes any later segment a crash left
/// behind. Until the next checkpoint commits, a crash leaves the same debt for the next open to place again.
/// </remarks>
internal sealed class DeferredTails(IFileSystem fs, SegmentFiles files) : IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<ulong, Debt> _debts = [];
    private readonly List<string> _logs = [];
    private readonly Dictionary<string, int> _logNumbers = new(StringComparer.Ordinal);
    private readonly Dictionary<int, IStorageFile> _open = [];
    private int _count;

    /// <summary>True while some session's appends are owed (checked before every segment operation).</summary>
    public bool Any => Volatile.Read(ref _count) > 0;

    /// <summary>Sessions whose appends are owed.</summary>
    public int Sessions => Volatile.Read(ref _count);

    /// <summary>
    /// Starts owing <paramref name="session"/>'s appends. <paramref name="cutTo"/> is its last segment and the
    /// length the checkpoint gives it, where settling starts; null when its first owed record creates its
    /// segment (a session new since the checkpoint, or a packed one written again).
    /// </summary>
    public void Begin(ulong session, (uint Segment, long Length)? cutTo)
    {
        lock (_lock)
        {
            if (_debts.TryAdd(session, new Debt(cutTo)))
            {
                _count++;
            }
        }
    }

    /// <summary>True when <paramref name="session"/>'s appends are owed (recovery places its records).</summary>
    public bool Owes(ulong session)
    {
        lock (_lock)
        {
            return _debts.ContainsKey(session);
        }
    }

    /// <summary>Owes the record at <paramref name="logOffset"/> of <paramref name="logPath"/>, placed at <paramref name="segment"/>, <paramref name="offset"/>.</summary>
    public void Add(ulong session, uint segment, long offset, bool rolled, string logPath, long logOffset, int length)
    {
        lock (_lock)
        {
            if (!_logNumbers.TryGetValue(logPath, out var log))
            {
                log = _logs.Count;
                _logs.Add(logPath);
                _logNumbers[logPath] = log;
            }
            _debts[session].Records.Add(new Owed(segment, offset, rolled, log, logOffset, length));
        }
    }

    /// <summary>Writes what <paramref name="session"/> is owed, if anything; returns at once when it owes nothing.</summary>
    public void Settle(ulong session)
    {
        if (Find(session) is not { } debt)
        {
            return;
        }
        lock (debt)
        {
            // Busy: this thread is settling it, and the segment operations it runs come back here.
            if (debt.Busy || debt.Done)
            {
                return;
            }
            debt.Busy = true;
            try
            {
                Write(session, debt);
            }
            finally
            {
                debt.Busy = false;
            }
            Close(session, debt);
        }
    }

    /// <summary>Writes every owed append (before a checkpoint, a sweep or a verification).</summary>
    public void SettleAll()
    {
        if (!Any)
        {
            return;
        }
        ulong[] sessions;
        lock (_lock)
        {
            sessions = [.. _debts.Keys];
        }
        foreach (var s in sessions)
        {
            Settle(s);
        }
    }

    /// <summary>Drops what <paramref name="session"/> is owed: it is being deleted, files and all.</summary>
    public void Forget(ulong session)
    {
        if (Find(session) is not { } debt)
        {
            return;
        }
        lock (debt)
        {
            if (!debt.Done)
            {
                Close(session, debt);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            CloseLogs();
        }
    }

    private Debt? Find(ulong session)
    {
        lock (_lock)
        {
            return _debts.GetValueOrDefault(session);
        }
    }

    private void Write(ulong session, Debt debt)
    {
        uint? previous = null;
        if (debt.CutTo is { } cut)
        {
            files.Truncate(session, cut.Segment, cut.Length);
            previous = cut.Segment;
        }
        foreach (var r in debt.Records)
        {
            if (r.Rolled)
            {
                if (previous is { } p)
                {
                    // As the writer rolls (SegmentAppender.Append): the finished segment durable before its successor exists.
                    files.Flush(session, p);
                    files.Create(session, r.Segment);
                    files.Flush(session, r.Segment);
                    files.SyncDirectory();
                }
                else
                {
                    files.Create(session, r.Segment);
                }
            }
            var buffer = ArrayPool<byte>.Shared.Rent(r.Length);
            try
            {
                var record = buffer.AsSpan(0, r.Length);
                var log = LogFile(r.Log);
                if (log.Read(r.LogOffset, record) != r.Length || !RecordHeader.TryRead(record, out var h, out _) || h.Session != session || h.TotalLength != r.Length)
                {
                    throw new IOException($"Commit log '{_logs[r.Log]}' no longer holds the record recovery read at offset {r.LogOffset}.");
                }
                files.Write(session, r.Segment, r.Offset, record);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            previous = r.Segment;
        }
        // A later segment a crash left behind (a roll the log does not repeat): nothing names it.
        if (previous is { } last)
        {
            for (var n = last + 1; n < PackFiles.PackBit && fs.FileExists(SegmentFiles.PathFor(session, n)); n++)
            {
                files.Delete(session, n);
            }
        }
    }

    private IStorageFile LogFile(int log)
    {
        lock (_lock)
        {
            if (!_open.TryGetValue(log, out var file))
            {
                file = fs.Open(_logs[log], create: false);
                _open[log] = file;
            }
            return file;
        }
    }

    private void Close(ulong session, Debt debt)
    {
        debt.Done = true;
        lock (_lock)
        {
            if (_debts.Remove(session) && --_count == 0)
            {
                CloseLogs();
            }
        }
    }

    private void CloseLogs()
    {
        foreach (var f in _open.Values)
        {
            f.Dispose();
        }
        _open.Clear();
        if (_count == 0)
        {
            _logs.Clear();
            _logNumbers.Clear();
        }
    }

    private sealed class Debt((uint Segment, long Length)? cutTo)
    {
        public (uint Segment, long Length)? CutTo { get; } = cutTo;

        public List<Owed> Records { get; } = [];

        public bool Busy { get; set; }

        public bool Done { get; set; }
    }

    private readonly record struct Owed(uint Segment, long Offset, bool Rolled, int Log, long LogOffset, int Length);
}
