using System.Security.Cryptography;
using System.Text;
using LangSwarm.Memory;
using LangSwarm.Memory.Conformance;
using LangSwarm.MemoryEngine.Format;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>Encryption at rest (FORMAT.md §13): what is sealed, opens with the right keys only, and key rotation.</summary>
public sealed class EncryptionTests : IDisposable
{
    // Unique strings that LZ4 keeps literally: if a file holds one in the clear, a byte search finds it.
    private const string Secret = "SECRET-7f3a9c2e-diagnosis-b41d0e";
    private const string SecretUser = "user-SECRET-55e1c0aa";
    private const string SecretSession = "session-SECRET-0c9d2b7f";

    private readonly TempStore _dir = new();

    private EngineBackend Open(IKeyProvider? keys, DurabilityMode mode = DurabilityMode.Strict) =>
        new(new EngineOptions { Path = _dir.Path, Durability = mode, Encryption = keys, SegmentMaxBytes = 8192, CheckpointLogBytes = 32 * 1024 });

    private static Message Msg(int i) => new(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"{Secret} message {i}: " + string.Concat(Enumerable.Repeat("the patient said ", 20)))
    {
        Metadata = new System.Text.Json.Nodes.JsonObject { ["note"] = $"{Secret} meta {i}" },
    };

    private async Task WriteAsync(IKeyProvider? keys, string sessionId, int from, int count, bool close = true)
    {
        var backend = Open(keys);
        await backend.ConnectAsync();
        var session = await backend.GetSessionAsync(sessionId)
            ?? await backend.CreateSessionAsync(new SessionMetadata(sessionId, SecretUser) { SummaryStrategy = SummaryStrategy.Manual, Metadata = new System.Text.Json.Nodes.JsonObject { ["topic"] = Secret } });
        for (var i = from; i < from + count; i++)
        {
            await session.AddMessageAsync(Msg(i));
        }
        await session.CreateSummaryAsync(SummaryType.Manual);
        if (!close)
        {
            // What a killed writer leaves: the files as they are now (the log holds every acknowledged add; no
            // checkpoint, no clean-close marker), copied aside, then put back in place once the writer has let go.
            var copy = _dir.Path + "-crash";
            CopyDirectory(_dir.Path, copy);
            await backend.DisposeAsync();
            Directory.Delete(_dir.Path, recursive: true);
            Directory.Move(copy, _dir.Path);
            return;
        }
        await backend.DisposeAsync();
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var d in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories).Prepend(from))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        }
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "LOCK"))
        {
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
        }
    }

    private async Task<List<string>> ReadAsync(IKeyProvider? keys, string sessionId)
    {
        await using var backend = Open(keys);
        await backend.ConnectAsync();
        var session = await backend.GetSessionAsync(sessionId);
        Assert.NotNull(session);
        Assert.True((await backend.VerifyAsync()).Ok);
        return [.. (await session.GetMessagesAsync()).Select(m => m.Content)];
    }

    /// <summary>Every file of the store whose bytes hold <paramref name="text"/> (UTF-8).</summary>
    private List<string> FilesHolding(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return [.. Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories).Where(f => File.ReadAllBytes(f).AsSpan().IndexOf(needle) >= 0)];
    }

    /// <summary>SHA-256 of every file but LOCK (empty; an open creates it to hold the lock, as FORMAT.md §1 says).</summary>
    private Dictionary<string, string> Hashes() => Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories)
        .Where(f => Path.GetFileName(f) != "LOCK")
        .ToDictionary(f => f, f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public async Task WithoutAKey_ContentIsInTheFiles_TheTestCanSeeIt()
    {
        await WriteAsync(null, SecretSession, 0, 30);
        Assert.NotEmpty(FilesHolding(Secret));
    }

    [Theory]
    [InlineData(DurabilityMode.Strict)]
    [InlineData(DurabilityMode.None)]
    public async Task WithAKey_NoFileHoldsContent_Ids_OrMetadata_AndEverythingReadsBack(DurabilityMode mode)
    {
        var backend = Open(TestKeys.Provider, mode);
        await backend.ConnectAsync();
        var session = await backend.CreateSessionAsync(new SessionMetadata(SecretSession, SecretUser) { SummaryStrategy = SummaryStrategy.Manual, Metadata = new System.Text.Json.Nodes.JsonObject { ["topic"] = Secret } });
        for (var i = 0; i < 200; i++)
        {
            await session.AddMessageAsync(Msg(i));
        }
        await session.CreateSummaryAsync(SummaryType.Manual);
        await backend.VacuumAsync(0.0); // packs and rewrites seal too
        await backend.DisposeAsync();

        Assert.Empty(FilesHolding(Secret));
        Assert.Empty(FilesHolding(SecretUser));
        Assert.Empty(FilesHolding(SecretSession));
        var got = await ReadAsync(TestKeys.Provider, SecretSession);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => Msg(i).Content), got);
    }

    [Fact]
    public async Task AfterACrash_AnEncryptedStoreRecoversEveryAcknowledgedWrite()
    {
        await WriteAsync(TestKeys.Provider, SecretSession, 0, 40, close: false);
        Assert.Equal(40, (await ReadAsync(TestKeys.Provider, SecretSession)).Count);
        Assert.Empty(FilesHolding(Secret));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AWrongOrMissingKey_IsATypedErrorAtOpen_AndLeavesEveryFileAsItWas(bool cleanClose)
    {
        await WriteAsync(TestKeys.Provider, SecretSession, 0, 40, close: cleanClose);
        var before = Hashes();

        var wrong = await Assert.ThrowsAsync<EncryptionKeyException>(async () => await Open(KeyProvider.FromKey(TestKeys.B)).ConnectAsync());
        Assert.Equal(TestKeys.A.Id, wrong.KeyId);
        Assert.DoesNotContain(Secret, wrong.ToString(), StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<EncryptionKeyException>(async () => await Open(null).ConnectAsync());
        Assert.Equal(TestKeys.A.Id, missing.KeyId);

        Assert.Equal(before, Hashes());
        Assert.Equal(40, (await ReadAsync(TestKeys.Provider, SecretSession)).Count);
    }

    [Fact]
    public async Task AnotherKeyWithTheSameId_IsRefusedByTheMetaPagesCheckBits()
    {
        await WriteAsync(TestKeys.Provider, SecretSession, 0, 5);
        using var cipher = StoreCipher.From(TestKeys.Provider)!;
        Assert.Null(cipher.Problem(TestKeys.A.Id, TestKeys.A.Check));
        Assert.NotNull(cipher.Problem(TestKeys.A.Id, TestKeys.A.Check ^ 1));
        Assert.NotNull(cipher.Problem(TestKeys.B.Id, TestKeys.B.Check));
    }

    [Fact]
    public async Task Rotation_OldDataReadsWithThePreviousKey_RekeyRewritesEverything_ThenTheOldKeyIsNotNeeded()
    {
        await WriteAsync(TestKeys.Provider, SecretSession, 0, 60);
        await WriteAsync(TestKeys.Provider, "other", 0, 10);
        var rotating = KeyProvider.FromKey(TestKeys.B, TestKeys.A);
        await WriteAsync(rotating, SecretSession, 60, 20);
        Assert.Equal(80, (await ReadAsync(rotating, SecretSession)).Count);
        // Without the old key, what it sealed cannot be opened: refused, not repaired.
        await Assert.ThrowsAsync<EncryptionKeyException>(async () => await ReadAsync(KeyProvider.FromKey(TestKeys.B), SecretSession));

        await using (var backend = Open(rotating))
        {
            await backend.ConnectAsync();
            var report = await backend.RekeyAsync();
            Assert.True(report.SessionsRewritten + report.SessionsPacked >= 2, report.ToString());
        }
        Assert.Equal([TestKeys.B.Id], KeyIdsInFiles());
        Assert.Equal(Enumerable.Range(0, 80).Select(i => Msg(i).Content), await ReadAsync(KeyProvider.FromKey(TestKeys.B), SecretSession));
        Assert.Equal(10, (await ReadAsync(KeyProvider.FromKey(TestKeys.B), "other")).Count);
    }

    [Fact]
    public async Task APlainStore_OpenedWithAKey_SealsNewData_AndRekeySealsTheRest()
    {
        await WriteAsync(null, SecretSession, 0, 30);
        Assert.NotEmpty(FilesHolding(Secret));
        await WriteAsync(TestKeys.Provider, SecretSession, 30, 10);
        // Plain records below the first keyed open's LSNs are the store's own; at or above, only sealed ones are.
        var since = NewestMeta().SealedSince;
        Assert.InRange(since, 30UL, 40UL);
        await using (var backend = Open(TestKeys.Provider))
        {
            await backend.ConnectAsync();
            await backend.RekeyAsync();
        }
        Assert.Empty(FilesHolding(Secret));
        // No plain record is genuine any more: from LSN 0 on, every record must be sealed.
        Assert.Equal(0UL, NewestMeta().SealedSince);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => Msg(i).Content), await ReadAsync(TestKeys.Provider, SecretSession));
        await Assert.ThrowsAsync<EncryptionKeyException>(async () => await Open(null).ConnectAsync());
    }

    [Fact]
    public async Task AForgedSealedRecord_IsDamage_NeverReturned()
    {
        await WriteAsync(TestKeys.Provider, SecretSession, 0, 10);
        // Flip a byte inside the sealed payload of the third message record of the session's segment, and fix
        // the record's checksum so only the seal can tell.
        var segment = Directory.EnumerateFiles(Path.Combine(_dir.Path, "seg")).OrderBy(f => f).First(f => new FileInfo(f).Length > 1000);
        var bytes = File.ReadAllBytes(segment);
        var at = FileHeader.Size;
        var messages = 0;
        while (RecordCodec.Verify(bytes.AsSpan(at), out var h))
        {
            if (h.Type == RecordType.Message && ++messages == 3)
            {
                bytes[at + RecordHeader.Size + StoreCipher.KeyIdSize + StoreCipher.NonceSize + 2] ^= 0x40;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), Crc32C.Compute(bytes.AsSpan(at + 4, h.TotalLength - 4)));
                break;
            }
            at += h.TotalLength;
        }
        Assert.Equal(3, messages);
        File.WriteAllBytes(segment, bytes);

        await using var backend = Open(TestKeys.Provider);
        await backend.ConnectAsync();
        var got = (await (await backend.GetSessionAsync(SecretSession))!.GetMessagesAsync()).Select(m => m.Content).ToList();
        Assert.DoesNotContain(Msg(2).Content, got);
        Assert.Equal(9, got.Count);
        Assert.NotEmpty(backend.Engine.Damage);
    }

    [Fact]
    public async Task BackupAndRestore_OfAnEncryptedStore_StaySealed_AndVerifyWithTheKey()
    {
        await WriteAsync(TestKeys.Provider, SecretSession, 0, 20);
        var backup = _dir.Path + "-backup";
        var restored = _dir.Path + "-restored";
        try
        {
            await using (var backend = Open(TestKeys.Provider))
            {
                await backend.ConnectAsync();
                Assert.True((await backend.BackupAsync(backup)).Verify!.Ok);
            }
            Assert.True((await EngineBackend.BackupStoreAsync(_dir.Path, backup + "2", TestKeys.Provider)).Verify!.Ok);
            await Assert.ThrowsAsync<EncryptionKeyException>(() => EngineBackend.BackupStoreAsync(_dir.Path, backup + "3"));
            Assert.True((await EngineBackend.RestoreAsync(backup, restored, TestKeys.Provider)).Ok);
            var needle = Encoding.UTF8.GetBytes(Secret);
            Assert.DoesNotContain(Directory.EnumerateFiles(restored, "*", SearchOption.AllDirectories), f => File.ReadAllBytes(f).AsSpan().IndexOf(needle) >= 0);
        }
        finally
        {
            foreach (var d in new[] { backup, backup + "2", backup + "3", restored })
            {
                if (Directory.Exists(d))
                {
                    Directory.Delete(d, recursive: true);
                }
            }
        }
    }

    [Fact]
    public void KeyProviders_ParseHexAndBase64_DeriveFromAPassphrase_AndNeverShowTheKey()
    {
        var hex = Convert.ToHexString(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        Assert.Equal(TestKeys.A.Id, EncryptionKey.Parse(hex).Id);
        Assert.Equal(TestKeys.A.Id, EncryptionKey.Parse(Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray())).Id);
        var bad = Assert.Throws<ArgumentException>(() => EncryptionKey.Parse("not-a-key-but-a-secret-value"));
        Assert.DoesNotContain("secret-value", bad.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new EncryptionKey(new byte[16]));
        Assert.DoesNotContain(hex, TestKeys.A.ToString(), StringComparison.OrdinalIgnoreCase);

        var salt = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var p1 = KeyProvider.FromPassphrase("correct horse battery staple", salt, 100_000);
        var p2 = KeyProvider.FromPassphrase("correct horse battery staple", salt, 100_000);
        Assert.Equal(p1.CurrentKey.Id, p2.CurrentKey.Id);
        Assert.NotEqual(p1.CurrentKey.Id, KeyProvider.FromPassphrase("another passphrase", salt, 100_000).CurrentKey.Id);
        Assert.Throws<ArgumentException>(() => EncryptionKey.FromPassphrase("x", new byte[8]));

        var variable = "LSMEM_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Assert.Null(KeyProvider.FromEnvironment(variable));
        Environment.SetEnvironmentVariable(variable, hex);
        try
        {
            Assert.Equal(TestKeys.A.Id, KeyProvider.FromEnvironment(variable)!.CurrentKey.Id);
            Environment.SetEnvironmentVariable(variable, "zz" + hex[2..]);
            var ex = Assert.Throws<ArgumentException>(() => KeyProvider.FromEnvironment(variable));
            Assert.Contains(variable, ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(hex[2..], ex.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void NoncesNeverRepeat_AcrossCiphersOfTheSameKey()
    {
        var seen = new HashSet<string>();
        for (var c = 0; c < 4; c++)
        {
            using var cipher = StoreCipher.From(TestKeys.Provider)!;
            for (var i = 0; i < 1000; i++)
            {
                var page = new byte[BTreePageHeader.PageSize];
                cipher.SealPage(page);
                Assert.True(seen.Add(Convert.ToHexString(page, StoreCipher.PageTrailer + StoreCipher.KeyIdSize, StoreCipher.NonceSize)));
            }
        }
    }

    private BTreeMeta NewestMeta()
    {
        var file = File.ReadAllBytes(Path.Combine(_dir.Path, "index.btree"));
        var metas = new[] { 0u, 1u }.Select(slot => BTreeMeta.TryRead(file.AsSpan((int)slot * BTreePageHeader.PageSize, BTreePageHeader.PageSize), slot, out _)).OfType<BTreeMeta>();
        return metas.MaxBy(m => m.TxId);
    }

    /// <summary>The key ids every file header, index meta page, sealed record and sealed page of the store names.</summary>
    private HashSet<uint> KeyIdsInFiles()
    {
        var ids = new HashSet<uint>();
        foreach (var f in Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(f);
            if (f.EndsWith("index.btree", StringComparison.Ordinal))
            {
                for (var p = 0; p + BTreePageHeader.PageSize <= bytes.Length; p += BTreePageHeader.PageSize)
                {
                    var page = bytes.AsSpan(p, BTreePageHeader.PageSize);
                    if (p < 2 * BTreePageHeader.PageSize)
                    {
                        if (BTreeMeta.TryRead(page, (uint)(p / BTreePageHeader.PageSize), out _) is { } m)
                        {
                            ids.Add(m.KeyId);
                        }
                    }
                    else if (page[StoreCipher.PageSealedFlag] == 1)
                    {
                        ids.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(page[StoreCipher.PageTrailer..]));
                    }
                }
                continue;
            }
            if (bytes.Length < FileHeader.Size)
            {
                continue;
            }
            ids.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
            for (var at = FileHeader.Size; at < bytes.Length && RecordCodec.Verify(bytes.AsSpan(at), out var h); at += h.TotalLength)
            {
                ids.Add((h.Flags & RecordFlags.Sealed) != 0 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + RecordHeader.Size)) : 0);
            }
        }
        return ids;
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>The shared conformance suite over an encrypted engine store with tiny segments and checkpoints.</summary>
public sealed class EngineEncryptedConformanceTests : EngineOptionsConformanceTests
{
    protected override EngineOptions Options(string path) => new()
    {
        Path = path,
        Durability = DurabilityMode.None,
        SegmentMaxBytes = 2048,
        CheckpointLogBytes = 16 * 1024,
        Encryption = TestKeys.Provider,
    };
}
