using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Session content on first use: read from the index file, or — where the file is damaged — rebuilt from the
/// session's segments, which are the truth. The damage is reported (health degrades, verify names it) and
/// the next checkpoint writes the rebuilt entries back.
/// </summary>
internal sealed class SessionContentLoader(IFileSystem fs, Func<IndexFile> indexFile, RecordFiles files, RuntimeDamage damage, StoreCipher? cipher) : ISessionContentSource
{
    /// <summary>
    /// A session record (or the page holding it) is damaged: the session cannot be named from the segments
    /// without a pass over all of them, so the open store reports it and leaves the rebuild to the next open
    /// (<see cref="StoreRoot.RebuildFile"/>); the other sessions stay readable and writable meanwhile.
    /// </summary>
    public Exception RecordDamaged(ulong number, InvalidDataException why)
    {
        var which = number == 0 ? "a session lookup" : $"session number {number}";
        damage.Report(new StoreDamage(IndexFile.FileName, 0, 0, $"index record unreadable at {which} ({why.Message}); the next open rebuilds the index file from the segments"));
        try
        {
            if (!fs.FileExists(StoreRoot.RebuildFile))
            {
                using (var marker = fs.Open(StoreRoot.RebuildFile, create: true))
                {
                    marker.Flush();
                }
                fs.SyncDirectory(string.Empty);
            }
        }
        catch (IOException)
        {
            // The damage is reported either way; a verify or the next failure names it again.
        }
        return new StorageCorruptionException($"The index file is damaged at {which}; reopen the store to rebuild it from the segments (nothing in the segments is lost).", why);
    }

    public List<MessageEntry> LoadMessages(SessionEntry entry)
    {
        try
        {
            return indexFile().LoadMessages(entry.Number);
        }
        catch (InvalidDataException ex)
        {
            return RebuildContent(entry, ex).Messages;
        }
        catch (IOException ex)
        {
            throw StorageErrors.Wrap(ex, $"Reading the index entries of session '{entry.State.Metadata.SessionId}' failed");
        }
    }

    public List<ConversationSummary> LoadSummaries(SessionEntry entry)
    {
        try
        {
            return indexFile().LoadSummaries(entry.Number, entry.State.Metadata.SessionId);
        }
        catch (InvalidDataException ex)
        {
            return RebuildContent(entry, ex).Summaries;
        }
        catch (IOException ex)
        {
            throw StorageErrors.Wrap(ex, $"Reading the summaries of session '{entry.State.Metadata.SessionId}' failed");
        }
    }

    /// <summary>Reads the session's segments into a scratch index and takes its content. Caller holds the entry's lock.</summary>
    private (List<MessageEntry> Messages, List<ConversationSummary> Summaries) RebuildContent(SessionEntry entry, InvalidDataException why)
    {
        var id = entry.State.Metadata.SessionId;
        damage.Report(new StoreDamage(IndexFile.FileName, 0, 0, $"entries of session '{id}' unreadable ({why.Message}); rebuilt from its segments"));
        var scratch = new SessionIndex(cipher: cipher);
        try
        {
            var onlyThisSession = new SegmentReplayer.Hooks { Admit = (long _, in RecordHeader h, ReadOnlySpan<byte> _) => h.Session == entry.Number };
            if (entry.Pack is { } group)
            {
                // Its pack group first: the records of its own segments all came after it.
                var location = PackFiles.Location(group.Pack);
                SegmentReplayer.Replay((at, buffer) => files.Read(entry.Number, location, at, buffer), location, group.Offset, group.Offset + group.Length, scratch, onlyThisSession, resync: true);
            }
            foreach (var extent in entry.Segments)
            {
                SegmentReplayer.Replay(files.Segments, entry.Number, extent.Segment, FileHeader.Size, extent.Length, scratch, onlyThisSession, resync: true);
            }
        }
        catch (IOException ex)
        {
            throw new StorageCorruptionException($"The index file is damaged where it lists session '{id}', and its segments could not be read to rebuild it: {ex.Message}", why);
        }
        if (!scratch.TryGet(entry.Number, out var rebuilt))
        {
            throw new StorageCorruptionException($"The index file is damaged where it lists session '{id}', and its segments hold no state to rebuild it from.", why);
        }
        List<MessageEntry> messages;
        List<ConversationSummary> summaries;
        lock (rebuilt.Lock)
        {
            messages = rebuilt.LoadMessages();
            summaries = rebuilt.LoadSummaries();
        }
        entry.ReplaceContent(messages, summaries);
        return (messages, summaries);
    }
}
