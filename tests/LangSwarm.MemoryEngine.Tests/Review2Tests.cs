using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>Review of the prefix-compressed leaves, the checkpoint dirty list and the gate-free vacuum swap.</summary>
public sealed class Review2Tests
{
    private static readonly IComparer<byte[]> Bytes = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    [Fact]
    public void PrefixCompressedLeaves_MatchModel_UnderLongSharedKeysAndMixedValues()
    {
        for (var seed = 0; seed < 60; seed++)
        {
            var rng = new Random(seed);
            var fs = new FaultInjectingFileSystem();
            var model = new SortedDictionary<byte[], byte[]>(Bytes);
            var bases = new List<byte[]>();
            for (var b = 0; b < 4; b++)
            {
                var len = rng.Next(4) switch { 0 => 1, 1 => 16, 2 => 700, _ => 1000 };
                var k = new byte[len];
                rng.NextBytes(k);
                bases.Add(k);
            }
            int[] sizes = [0, 1, 7, 120, 999, 1000, 1001, 3000];
            var tree = BPlusTree.Open(fs, "index.btree");
            try
            {
                for (var op = 0; op < 1500; op++)
                {
                    var bk = bases[rng.Next(bases.Count)];
                    var key = (byte[])bk.Clone();
                    var tail = rng.Next(1, Math.Min(4, key.Length) + 1);
                    for (var t = 0; t < tail; t++)
                    {
                        key[key.Length - 1 - t] = (byte)rng.Next(6);
                    }
                    if (rng.Next(5) == 0 && key.Length > 2)
                    {
                        key = key[..rng.Next(1, key.Length)];
                    }
                    var r = rng.Next(100);
                    if (r < 65)
                    {
                        var v = new byte[sizes[rng.Next(sizes.Length)]];
                        rng.NextBytes(v);
                        tree.Put(key, v);
                        model[key] = v;
                    }
                    else if (r < 85)
                    {
                        Assert.Equal(model.Remove(key), tree.Delete(key));
                    }
                    else if (r < 97)
                    {
                        tree.Commit(1, 2, 3);
                    }
                    else
                    {
                        tree.Commit(1, 2, 3);
                        tree.Dispose();
                        tree = BPlusTree.Open(fs, "index.btree");
                    }
                }
                tree.Commit(1, 2, 3);
                Assert.Empty(tree.Check());
                var actual = new List<KeyValuePair<byte[], byte[]>>();
                tree.Scan([], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], (k, v) =>
                {
                    actual.Add(new(k, v));
                    return true;
                });
                Assert.Equal(model.Count, actual.Count);
                var i = 0;
                foreach (var (k, v) in model)
                {
                    Assert.Equal(k, actual[i].Key);
                    Assert.Equal(v, actual[i].Value);
                    i++;
                }
            }
            finally
            {
                tree.Dispose();
            }
        }
    }

    [Fact]
    public void Varint_TenthByteCarryingBitsPast64_IsRefused()
    {
        // 32 in the low bits, then a tenth byte whose bit 1 would be bit 64: not a 64-bit value.
        byte[] forged = [0xA0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02];
        var at = 0;
        Assert.False(Varint.TryRead(forged, ref at, Varint.MaxLength, out var value), $"decoded as {value}");

        // The largest value still round-trips.
        var buffer = new byte[Varint.MaxLength];
        Assert.Equal(Varint.MaxLength, Varint.Write(buffer, ulong.MaxValue));
        at = 0;
        Assert.True(Varint.TryRead(buffer, ref at, Varint.MaxLength, out value));
        Assert.Equal(ulong.MaxValue, value);
    }

    [Fact]
    public async Task VacuumPause_DoesNotKeepCheckpointsOutForTheWholePass()
    {
        using var dir = new TempStore();
        var pause = TimeSpan.FromMilliseconds(400);
        var backend = new EngineBackend(new EngineOptions { Path = dir.Path, Durability = DurabilityMode.None, VacuumPause = pause });
        await backend.ConnectAsync();
        const int Sessions = 6;
        for (var k = 0; k < Sessions; k++)
        {
            var s = await backend.CreateSessionAsync(new Memory.SessionMetadata($"paced-{k}", "u") { MaxMessages = 5, SummaryStrategy = Memory.SummaryStrategy.Manual });
            for (var i = 0; i < 40; i++)
            {
                await s.AddMessageAsync(new Memory.Message(Memory.MessageRole.User, $"{i} " + new string('x', 300)) { TokenCount = 5 });
            }
        }
        var vacuum = backend.VacuumAsync(0.1);
        await Task.Delay(pause / 2); // inside the pass, between two sessions
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await backend.CheckpointAsync();
        sw.Stop();
        var report = await vacuum;
        Assert.Equal(Sessions, report.SessionsRewritten);
        // The pass takes at least Sessions × pause; a checkpoint (the log's only way to shrink) must not wait for all of it.
        Assert.True(sw.Elapsed < pause * 2, $"checkpoint waited {sw.Elapsed.TotalMilliseconds:F0} ms for the vacuum");
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }
}
