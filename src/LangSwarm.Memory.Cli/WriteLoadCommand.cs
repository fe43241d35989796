using System.CommandLine;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.Memory.Cli;

/// <summary>
/// <c>lsmem write-load</c>: adds messages to an engine store until stopped, printing <c>ack &lt;session&gt; &lt;id&gt;</c>
/// after each add returns. The kill test runs it and SIGKILLs it; it is also a quick way to load a store.
/// </summary>
internal static class WriteLoadCommand
{
    public static Command Create()
    {
        var store = new Option<string>("--store", "-s") { Description = "Store directory.", Required = true };
        var sessions = new Option<int>("--sessions") { Description = "Sessions written round-robin.", DefaultValueFactory = _ => 4 };
        var count = new Option<int>("--count", "-n") { Description = "Messages to write (0: until killed).", DefaultValueFactory = _ => 0 };
        var durability = new Option<DurabilityMode>("--durability") { Description = "strict, batched or none.", DefaultValueFactory = _ => DurabilityMode.Strict };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only a summary line (messages/s), no 'ack' lines." };
        var mixed = new Option<bool>("--mixed") { Description = "A mixed workload (adds, batches, eviction, archive, delete and re-create) with the background vacuum looping; strict, announcing each step." };
        var c = new Command("write-load", "Add messages to an engine store, printing an 'ack' line after each acknowledged add.");
        c.Options.Add(store);
        c.Options.Add(sessions);
        c.Options.Add(count);
        c.Options.Add(durability);
        c.Options.Add(quiet);
        c.Options.Add(mixed);
        c.SetAction(async (pr, ct) =>
        {
            if (pr.GetValue(mixed))
            {
                return await MixedLoad.RunAsync(pr.GetValue(store)!, pr.GetValue(count), ct);
            }
            var path = pr.GetValue(store)!;
            var spec = new StoreSpec("engine", new BackendSettings([new("path", path), new("durability", pr.GetValue(durability).ToString().ToLowerInvariant())]), "engine:" + path);
            await using var opened = await StoreAccess.OpenAsync(spec, StoreAccessMode.ReadWrite, ct);
            var backend = opened.Backend;
            var n = Math.Max(1, pr.GetValue(sessions));
            var handles = new List<IMemorySession>();
            for (var i = 0; i < n; i++)
            {
                var id = $"load-{i}";
                handles.Add(await backend.GetSessionAsync(id, ct)
                    ?? await backend.CreateSessionAsync(new SessionMetadata(id, "load") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = int.MaxValue, MaxTokens = int.MaxValue }, ct));
            }
            var limit = pr.GetValue(count);
            var silent = pr.GetValue(quiet);
            var rnd = new Random();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            long k = 0;
            for (; limit == 0 || k < limit; k++)
            {
                var session = handles[(int)(k % n)];
                var m = new Message(MessageRole.User, $"load message {k} " + new string('x', rnd.Next(10, 2000))) { TokenCount = 10 };
                await session.AddMessageAsync(m, ct);
                if (!silent)
                {
                    Console.Out.WriteLine($"ack {session.SessionId} {m.MessageId}");
                    Console.Out.Flush();
                }
            }
            Console.Out.WriteLine($"wrote {k:N0} messages in {sw.Elapsed.TotalSeconds:F2} s ({k / sw.Elapsed.TotalSeconds:N0} messages/s, {pr.GetValue(durability).ToString().ToLowerInvariant()})");
            return 0;
        });
        return c;
    }
}
