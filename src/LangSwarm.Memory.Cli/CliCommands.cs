using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using LangSwarm.Memory;

namespace LangSwarm.Memory.Cli;

/// <summary>The lsmem commands.</summary>
internal static class CliCommands
{
    internal static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return Backends();
        yield return Sessions();
        yield return Stats();
        yield return VerifyCommand.Create();
        yield return VacuumCommand.Create();
        yield return WriteLoadCommand.Create();
    }

    private static Command Backends()
    {
        var c = new Command("backends", "List the backends this build can use.");
        c.SetAction(_ =>
        {
            foreach (var name in MemoryFactory.Default.GetAvailableBackends())
            {
                Console.WriteLine(name);
            }
            return 0;
        });
        return c;
    }

    private static Command Sessions()
    {
        var user = new Option<string?>("--user", "-u") { Description = "Only this user's sessions." };
        var limit = new Option<int>("--limit", "-n") { Description = "Most sessions shown.", DefaultValueFactory = _ => 20 };
        var c = new Command("sessions", "List sessions, newest activity first.");
        StoreOptions.AddTo(c);
        c.Options.Add(user);
        c.Options.Add(limit);
        c.SetAction(async (pr, ct) =>
        {
            await using var manager = await OpenAsync(pr, ct);
            var list = await manager.Backend.ListSessionsAsync(pr.GetValue(user), null, pr.GetValue(limit), 0, ct);
            foreach (var s in list)
            {
                Console.WriteLine($"{s.UpdatedAt:u}  {s.Status,-8}  {s.UserId ?? "-",-16}  {s.SessionId}");
            }
            Console.WriteLine($"{list.Count} session(s)");
            return 0;
        });
        return c;
    }

    private static Command Stats()
    {
        var c = new Command("stats", "Show usage statistics and health of a store.");
        StoreOptions.AddTo(c);
        c.SetAction(async (pr, ct) =>
        {
            await using var manager = await OpenAsync(pr, ct);
            var stats = await manager.GetSystemStatsAsync(ct);
            var health = await manager.Backend.HealthCheckAsync(ct);
            Console.WriteLine(JsonSerializer.Serialize(stats.ToDictionary(), Pretty));
            Console.WriteLine(JsonSerializer.Serialize(health.ToDictionary(), Pretty));
            return health.Status == HealthStatus.Unhealthy ? 2 : 0;
        });
        return c;
    }

    internal static async Task<IMemoryManager> OpenAsync(ParseResult pr, CancellationToken ct)
    {
        var config = StoreOptions.Resolve(pr.GetValue(StoreOptions.Backend), pr.GetValue(StoreOptions.Store));
        return await MemoryFactory.Default.CreateManagerAsync(config, ct);
    }

    internal static string Json(JsonNode node) => node.ToJsonString(Pretty);
}
