using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;

namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>
/// <c>store</c>: a real store (checkpoint, segments, a commit log with records past the checkpoint) is built
/// once; each input is a program of mutations (flip, overwrite, truncate, splice, insert, delete, and forged
/// record or header checksums) applied to its files; then an engine opens the result and every session is
/// read back. Opening must succeed or fail with a documented exception, and, unless the program forged a
/// checksum, every message read must be one that was written to that session.
/// </summary>
internal static class StoreTarget
{
    private static readonly Lazy<BaseStore> Base = new(() => BuildBase(null), LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<BaseStore> SealedBase = new(() => BuildBase(Sealing.Provider), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The unmutated store: file path to bytes, and (session id, message id) to content.</summary>
    internal sealed record BaseStore(SortedDictionary<string, byte[]> Files, Dictionary<(string Session, string Message), string> Written);

    public static IReadOnlyDictionary<string, byte[]> BaseFiles => Base.Value.Files;

    /// <summary>The files of the same store written with the test key (sealed records and index pages).</summary>
    public static IReadOnlyDictionary<string, byte[]> SealedBaseFiles => SealedBase.Value.Files;

    public static void Run(ReadOnlySpan<byte> program)
    {
        var b = Base.Value;
        var (fs, forged) = Mutated(b, program);
        OpenAndRead(fs, forged ? null : b.Written, provider: null);
    }

    /// <summary>
    /// <c>store-sealed</c>: input = key mode byte, then a program as for <c>store</c>, applied to the store written
    /// with the test key. Mode 0 (byte mod 3) opens the result with that key, 1 with no key, 2 with only the wrong
    /// key. Every message read must have been written to its session with its content even when the program forged
    /// checksums: a forged sealed record or page does not authenticate. Without the store's key, an open of a store
    /// whose newest valid meta page still names it MUST be refused with <see cref="EncryptionKeyException"/>.
    /// </summary>
    public static void RunSealed(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }
        var keyMode = input[0] % 3;
        var b = SealedBase.Value;
        var (fs, _) = Mutated(b, input[1..]);
        var provider = keyMode switch
        {
            0 => Sealing.Provider,
            1 => null,
            _ => Sealing.WrongProvider,
        };
        var namesKey = fs.FileExists(IndexFile.FileName) && IndexMetaNamesTestKey(fs);
        var failure = OpenAndRead(fs, b.Written, provider);
        if (keyMode != 0 && namesKey)
        {
            Invariants.Check(failure is EncryptionKeyException, $"an open {(provider is null ? "without a key" : "with the wrong key")} of a store whose index file names the test key was not refused with EncryptionKeyException (got {failure?.GetType().FullName ?? "no exception"})");
        }
    }

    private static bool IndexMetaNamesTestKey(FaultInjectingFileSystem fs)
    {
        using var f = fs.Open(IndexFile.FileName, create: false);
        var bytes = new byte[Math.Min(f.Length, 2L * BTreePageHeader.PageSize)];
        f.Read(0, bytes);
        return FormatTargets.NewestMetaKeyId(bytes) == Sealing.Cipher.KeyId;
    }

    private static (FaultInjectingFileSystem Fs, bool Forged) Mutated(BaseStore b, ReadOnlySpan<byte> program)
    {
        var files = b.Files.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
        var forged = Apply(files, program);
        var fs = new FaultInjectingFileSystem();
        foreach (var (path, bytes) in files)
        {
            FormatTargets.WriteFile(fs, path, bytes);
        }
        return (fs, forged);
    }

    /// <summary>
    /// Opens an engine on <paramref name="fs"/> (with the keys of <paramref name="provider"/>) and reads every
    /// session; checks messages against <paramref name="written"/> when given. Returns the documented exception
    /// that ended it, if any.
    /// </summary>
    public static Exception? OpenAndRead(FaultInjectingFileSystem fs, Dictionary<(string Session, string Message), string>? written, IKeyProvider? provider)
    {
        var backend = new EngineBackend(FormatTargets.Options(fs, provider));
        return Invariants.Expect("EngineBackend open and read", () =>
        {
            try
            {
                backend.ConnectAsync().GetAwaiter().GetResult();
                var engine = backend.Engine;
                foreach (var e in engine.Index.LoadAll())
                {
                    string sessionId;
                    lock (e.Lock)
                    {
                        sessionId = e.State.Metadata.SessionId;
                    }
                    var messages = engine.ReadMessages(e, MessageQuery.All);
                    if (written is not null)
                    {
                        foreach (var m in messages)
                        {
                            Invariants.Check(
                                written.TryGetValue((sessionId, m.MessageId), out var content) && content == m.Content,
                                $"session '{sessionId}' returned message '{m.MessageId}' that was never written to it");
                        }
                    }
                    engine.ReadMessages(e, MessageQuery.All, newest: 3);
                }
                backend.GetUsageStatsAsync().GetAwaiter().GetResult();
                backend.VerifyAsync().GetAwaiter().GetResult();
            }
            finally
            {
                backend.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        });
    }

    /// <summary>Applies a mutation program; true when it forged a checksum (so new content may legitimately appear).</summary>
    public static bool Apply(Dictionary<string, byte[]> files, ReadOnlySpan<byte> p)
    {
        var forged = false;
        var i = 0;
        while (i + 6 <= p.Length && files.Count > 0)
        {
            var op = p[i] % 8;
            var names = files.Keys.Order(StringComparer.Ordinal).ToArray();
            var name = names[p[i + 1] % names.Length];
            var data = files[name];
            var at = BinaryPrimitives.ReadUInt16LittleEndian(p[(i + 2)..]);
            var arg = p[i + 4];
            var arg2 = p[i + 5];
            i += 6;
            var pos = data.Length == 0 ? 0 : at % data.Length;
            switch (op)
            {
                case 0: // flip bits
                    if (data.Length > 0)
                    {
                        data[pos] ^= arg == 0 ? (byte)1 : arg;
                    }
                    break;
                case 1: // overwrite a run
                    for (var k = 0; k < (arg % 16) + 1 && pos + k < data.Length; k++)
                    {
                        data[pos + k] = arg2;
                    }
                    break;
                case 2: // truncate
                    files[name] = data.AsSpan(0, data.Length == 0 ? 0 : at % (data.Length + 1)).ToArray();
                    break;
                case 3: // splice a range of another file over this one (extending it)
                    {
                        var src = files[names[arg % names.Length]];
                        if (src.Length == 0)
                        {
                            break;
                        }
                        var from = (arg2 * 61) % src.Length;
                        var len = Math.Min(src.Length - from, 64 + (at % 512));
                        var dst = new byte[Math.Max(data.Length, pos + len)];
                        data.CopyTo(dst, 0);
                        src.AsSpan(from, len).CopyTo(dst.AsSpan(pos));
                        files[name] = dst;
                        break;
                    }
                case 4: // insert bytes taken from the program
                    {
                        var n = Math.Min(arg % 32, p.Length - i);
                        var dst = new byte[data.Length + n];
                        data.AsSpan(0, pos).CopyTo(dst);
                        p.Slice(i, n).CopyTo(dst.AsSpan(pos));
                        data.AsSpan(pos).CopyTo(dst.AsSpan(pos + n));
                        i += n;
                        files[name] = dst;
                        break;
                    }
                case 5: // delete the file
                    files.Remove(name);
                    break;
                case 6: // forge: set a header field of the record at or after pos, then recompute its checksum
                    {
                        var r = NextRecord(data, pos);
                        if (r < 0)
                        {
                            break;
                        }
                        int[] fields = [6, 7, 8, 12, 16, 24, 32, 40, 48, 56, 60, 64];
                        var f = fields[arg % fields.Length];
                        if (f + 1 <= data.Length - r)
                        {
                            data[r + f] ^= arg2 == 0 ? (byte)0x80 : arg2;
                        }
                        forged |= FormatTargets.FixRecordCrc(data, r);
                        break;
                    }
                default: // forge: recompute the file header's (or the index file's page) checksums
                    if (name == IndexFile.FileName)
                    {
                        FormatTargets.FixPageCrcs(data);
                    }
                    else
                    {
                        FormatTargets.FixFileHeaderCrc(data);
                    }
                    forged = true;
                    break;
            }
        }
        return forged;
    }

    /// <summary>
    /// A <c>store-sealed</c> input (key mode 0) that needs no key: it inserts, in place of the commit log's last record
    /// (the delete of session gamma), a plain Message record for session alpha under that record's LSN, with a valid
    /// checksum, then truncates the log after it. An encrypted store accepts plain records (FORMAT.md §13: a store
    /// MAY hold both), so the open returns message <c>forged</c>, never written: a known engine bug, kept out of the
    /// smoke corpus (see the skipped test in LangSwarm.MemoryEngine.Fuzz.Tests and fuzz/README.md).
    /// </summary>
    public static byte[] PlainRecordInjection()
    {
        var files = SealedBaseFiles;
        var names = files.Keys.ToList();
        var walName = names.First(n => n.StartsWith(CommitLog.Directory + "/", StringComparison.Ordinal));
        var wal = files[walName];
        var at = FileHeader.Size;
        var lastAt = -1;
        RecordHeader last = default;
        ulong alpha = 0;
        long alphaSequence = 0;
        while (RecordHeader.TryRead(wal.AsSpan(at), out var h, out _) && at + h.TotalLength <= wal.Length)
        {
            if (h.Type == RecordType.Message && h.Sequence > alphaSequence)
            {
                // Alpha holds the most messages, so its session has the highest message sequence in the log.
                (alpha, alphaSequence) = (h.Session, h.Sequence);
            }
            (lastAt, last) = (at, h);
            at += h.TotalLength;
        }
        var t = new DateTimeOffset(2025, 1, 2, 4, 0, 0, TimeSpan.Zero);
        var m = new Message(MessageRole.User, "forged, never written") { MessageId = "forged", Timestamp = t, Sequence = alphaSequence + 1, TokenCount = 1 };
        var payload = new ArrayBufferWriter<byte>();
        MessageCodec.Write(payload, m);
        var output = new ArrayBufferWriter<byte>();
        RecordCodec.Encode(output, MessageCodec.Header(alpha, m, t.UtcTicks) with { Lsn = last.Lsn }, payload.WrittenSpan);
        var record = output.WrittenSpan.ToArray();
        var wi = (byte)names.IndexOf(walName);
        var program = new List<byte> { 0 };
        for (var k = 0; k < record.Length; k += 31)
        {
            var n = Math.Min(31, record.Length - k);
            var pos = lastAt + k;
            program.AddRange([4, wi, (byte)pos, (byte)(pos >> 8), (byte)n, 0]);
            program.AddRange(record.AsSpan(k, n).ToArray());
        }
        var end = lastAt + record.Length;
        program.AddRange([2, wi, (byte)end, (byte)(end >> 8), 0, 0]);
        return [.. program];
    }

    private static int NextRecord(byte[] data, int from)
    {
        for (var k = Math.Max(0, from); k + RecordHeader.Size <= data.Length; k++)
        {
            if (data[k + 4] == (byte)(RecordHeader.Magic & 0xFF) && data[k + 5] == (byte)(RecordHeader.Magic >> 8))
            {
                return k;
            }
        }
        return -1;
    }

    private static BaseStore BuildBase(IKeyProvider? provider)
    {
        var fs = new FaultInjectingFileSystem();
        var written = new Dictionary<(string, string), string>();
        var backend = new EngineBackend(FormatTargets.Options(fs, provider));
        var t0 = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        async Task Build()
        {
            await backend.ConnectAsync().ConfigureAwait(false);
            var a = await backend.CreateSessionAsync(new SessionMetadata { SessionId = "alpha", UserId = "u1", CreatedAt = t0, UpdatedAt = t0, MaxMessages = 8 }).ConfigureAwait(false);
            var b = await backend.CreateSessionAsync(new SessionMetadata { SessionId = "beta", CreatedAt = t0, UpdatedAt = t0, Metadata = new JsonObject { ["topic"] = "fuzz" } }).ConfigureAwait(false);
            var gone = await backend.CreateSessionAsync(new SessionMetadata { SessionId = "gamma", CreatedAt = t0, UpdatedAt = t0 }).ConfigureAwait(false);
            async Task Add(IMemorySession s, string id, MessageRole role, string content, int k)
            {
                var m = new Message(role, content) { MessageId = id, Timestamp = t0.AddMinutes(k) };
                if (k % 5 == 0)
                {
                    m.Metadata = new JsonObject { ["k"] = k };
                }
                await s.AddMessageAsync(m).ConfigureAwait(false);
                written[(s.SessionId, id)] = content;
            }
            for (var k = 0; k < 6; k++)
            {
                await Add(a, $"a{k}", k % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"alpha message {k}", k).ConfigureAwait(false);
                await Add(b, $"b{k}", MessageRole.User, string.Concat(Enumerable.Repeat($"beta long compressible text {k} ", 8)), k).ConfigureAwait(false);
            }
            await Add(gone, "g0", MessageRole.User, "gamma", 0).ConfigureAwait(false);
            await backend.CheckpointAsync().ConfigureAwait(false);
            // Past the checkpoint: more messages (alpha evicts past 8), a summary, a delete.
            for (var k = 6; k < 12; k++)
            {
                await Add(a, $"a{k}", MessageRole.User, $"alpha message {k}", k).ConfigureAwait(false);
            }
            await b.CreateSummaryAsync().ConfigureAwait(false);
            await Add(b, "b6", MessageRole.System, "beta after summary", 6).ConfigureAwait(false);
            await gone.DeleteSessionAsync().ConfigureAwait(false);
        }
        Build().GetAwaiter().GetResult();
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var dir in new[] { string.Empty, "seg", "wal" })
        {
            foreach (var (name, _) in fs.ListFiles(dir))
            {
                var path = dir.Length == 0 ? name : $"{dir}/{name}";
                using var f = fs.Open(path, create: false);
                var bytes = new byte[f.Length];
                f.Read(0, bytes);
                files[path] = bytes;
            }
        }
        // The store is left open (as a crash would): the log still holds the records past the checkpoint.
        return new BaseStore(files, written);
    }
}
