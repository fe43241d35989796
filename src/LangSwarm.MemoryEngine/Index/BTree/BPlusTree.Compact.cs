using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index.BTree;

/// <summary>Compaction of the index file: a dense copy switched in by rename (vacuum).</summary>
internal sealed partial class BPlusTree
{
    private const int CompactBatch = 50_000;

    /// <summary>
    /// Rewrites the committed tree into a new file with every page full and no free pages, fsyncs it, and
    /// renames it over this one (the rename is the switch: a crash before it leaves the old file, after it
    /// the new one, both complete). Call with no transaction open. Returns the bytes the file shrank by.
    /// </summary>
    public long Compact()
    {
        if (_txChanged)
        {
            throw new InvalidOperationException("Compact needs the write transaction to be empty.");
        }
        var temp = Name + ".compact";
        var before = FileBytes;
        _fs.Delete(temp);
        using (var fresh = Open(_fs, temp))
        {
            var pending = 0;
            // Keys arrive in order, so every leaf fills up before the next starts (see NodeSplitter.SplitLeaf).
            Scan([], MaxKeyBound, (k, v) =>
            {
                fresh.Put(k, v);
                if (++pending == CompactBatch)
                {
                    fresh.Commit(_meta.User0, _meta.User1, _meta.User2);
                    pending = 0;
                }
                return true;
            });
            fresh.Commit(_meta.User0, _meta.User1, _meta.User2);
        }
        _fs.Rename(temp, Name);
        _fs.SyncDirectory(string.Empty);

        var (pages, meta) = PageFile.Open(_fs, Name);
        _rw.EnterWriteLock();
        var old = _pages;
        try
        {
            _pages = pages;
            _meta = meta;
        }
        finally
        {
            _rw.ExitWriteLock();
        }
        old.Dispose();
        _free = [];
        _freeChain = [];
        LoadFreeList();
        ResetTransaction();
        return before - FileBytes;
    }

    /// <summary>A key above every valid key (longer than the longest allowed).</summary>
    private static readonly byte[] MaxKeyBound = CreateMaxKeyBound();

    private static byte[] CreateMaxKeyBound()
    {
        var k = new byte[MaxKey + 1];
        Array.Fill(k, (byte)0xFF);
        return k;
    }

    /// <summary>Checks the committed tree: every page readable, keys ordered within and across pages, counts agree.</summary>
    public List<string> Check()
    {
        var problems = new List<string>();
        ulong entries = 0;
        byte[]? last = null;
        try
        {
            Scan([], MaxKeyBound, (k, _) =>
            {
                if (last is not null && last.AsSpan().SequenceCompareTo(k) >= 0)
                {
                    problems.Add("index keys out of order");
                    return false;
                }
                last = k;
                entries++;
                return true;
            });
        }
        catch (InvalidDataException ex)
        {
            problems.Add(ex.Message);
        }
        if (problems.Count == 0 && entries != _meta.EntryCount)
        {
            problems.Add($"index meta counts {_meta.EntryCount} entries, the tree holds {entries}");
        }
        if (_meta.PageCount > 2 && _meta.PageCount * (long)BTreePageHeader.PageSize > FileBytes)
        {
            problems.Add($"index file is {FileBytes} bytes, its meta names {_meta.PageCount} pages");
        }
        return problems;
    }
}
