using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// Step 0 of an open of an encrypted store (FORMAT.md §13): before recovery changes anything, the index file's
/// meta page and every commit log name the keys they were written with, and the open must hold each of them
/// (the meta page's check bits tell a different key with the same id). A store opened with a wrong or missing
/// key is refused with <see cref="EncryptionKeyException"/> and left exactly as it was, never repaired as damage.
/// </summary>
internal static class StoreKeys
{
    /// <summary>
    /// Throws <see cref="EncryptionKeyException"/> when <paramref name="cipher"/> lacks a key the store names; sets the
    /// cipher's <see cref="StoreCipher.SealedSince"/> from the meta page (0 for a new store, unknown until recovery
    /// for a plain store opened with a key for the first time).
    /// </summary>
    public static void Check(IFileSystem fs, StoreCipher? cipher)
    {
        var newest = fs.FileExists(IndexFile.FileName) ? NewestMeta(fs) : null;
        if (cipher is not null)
        {
            cipher.SealedSince = newest switch
            {
                null => fs.ListFiles(CommitLog.Directory).Count == 0 ? 0 : ulong.MaxValue,
                { KeyId: not 0 } m => m.SealedSince,
                _ => ulong.MaxValue,
            };
        }
        if (newest is { KeyId: not 0 } meta)
        {
            var problem = cipher is null ? $"it is sealed with key {meta.KeyId:x8}, and no key was given" : cipher.Problem(meta.KeyId, meta.KeyCheck);
            if (problem is not null)
            {
                throw Refused($"the index file: {problem}", meta.KeyId);
            }
        }
        var header = new byte[FileHeader.Size];
        foreach (var file in fs.ListFiles(CommitLog.Directory))
        {
            if (!CommitLog.TryParseName(file.Name, out _) || file.Length < FileHeader.Size)
            {
                continue;
            }
            using (var log = fs.Open($"{CommitLog.Directory}/{file.Name}", create: false))
            {
                if (log.Read(0, header) != header.Length)
                {
                    continue;
                }
            }
            if (FileHeader.TryRead(header, FileKind.CommitLog, out var h) == FileHeaderStatus.Ok && h.KeyId != 0 && cipher?.Knows(h.KeyId) != true)
            {
                throw Refused($"commit log {file.Name} is sealed with key {h.KeyId:x8}, which {(cipher is null ? "was not given (no key)" : "is neither the current key nor a previous one")}", h.KeyId);
            }
        }
    }

    private static EncryptionKeyException Refused(string why, uint keyId) =>
        new($"The store is encrypted and cannot be opened with the key given: {why}. Nothing was changed. Open it with EngineOptions.Encryption holding that key (lsmem: environment variable {KeyProvider.DefaultVariable}; after a rotation, the old key in {KeyProvider.DefaultPreviousVariable}).", keyId);

    private static BTreeMeta? NewestMeta(IFileSystem fs)
    {
        var page = new byte[BTreePageHeader.PageSize];
        BTreeMeta? best = null;
        using var file = fs.Open(IndexFile.FileName, create: false);
        for (uint slot = 0; slot < 2; slot++)
        {
            Array.Clear(page);
            file.Read(slot * (long)BTreePageHeader.PageSize, page);
            if (BTreeMeta.TryRead(page, slot, out _) is { } m && (best is null || m.TxId > best.Value.TxId))
            {
                best = m;
            }
        }
        return best;
    }
}
