using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using LangSwarm.MemoryEngine;

namespace LangSwarm.Memory.Cli;

/// <summary><c>lsmem stats</c>: a short summary of a store and its health, or both in full as JSON.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print every figure and the health report as JSON." };
        var c = new Command("stats", "Show a store's sessions, messages, summaries, size and health; exit 1 when it is not healthy.");
        StoreOptions.AddTo(c);
        c.Options.Add(json);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            await using var store = await StoreAccess.OpenAsync(StoreOptions.Spec(pr), StoreAccessMode.Read, ct, io);
            var stats = await store.Backend.GetUsageStatsAsync(ct);
            var health = await store.Backend.HealthCheckAsync(ct);
            var exit = health.Status == HealthStatus.Healthy ? ExitCodes.Ok : ExitCodes.Problems;
            if (pr.GetValue(json))
            {
                var node = new JsonObject
                {
                    ["stats"] = JsonSerializer.SerializeToNode(stats.ToDictionary(), CliCommands.Pretty),
                    ["health"] = JsonSerializer.SerializeToNode(health.ToDictionary(), CliCommands.Pretty),
                };
                if (store.Backend is EngineBackend engine)
                {
                    node["encryption"] = engine.Options.Encryption is { } keys
                        ? new JsonObject { ["enabled"] = true, ["key_id"] = $"{keys.CurrentKey.Id:x8}" }
                        : new JsonObject { ["enabled"] = false };
                }
                await io.Out.WriteLineAsync(CliCommands.Json(node));
                return exit;
            }
            var other = stats.TotalSessions - stats.ActiveSessions - stats.ArchivedSessions;
            await io.Out.WriteLineAsync($"store      {store.Spec.Display} ({stats.Backend})");
            await io.Out.WriteLineAsync($"health     {health.Status.ToString().ToLowerInvariant()}");
            await io.Out.WriteLineAsync($"sessions   {stats.TotalSessions:N0} ({stats.ActiveSessions:N0} active, {stats.ArchivedSessions:N0} archived{(other > 0 ? $", {other:N0} other" : string.Empty)})");
            await io.Out.WriteLineAsync($"messages   {stats.TotalMessages:N0} live");
            await io.Out.WriteLineAsync($"summaries  {stats.TotalSummaries:N0}");
            await io.Out.WriteLineAsync($"storage    {Size(stats.StorageBytes)}");
            if (store.Backend is EngineBackend e)
            {
                // The key this run opened the store with (new data is sealed with it); the id names the key, never its bytes.
                await io.Out.WriteLineAsync(e.Options.Encryption is { } keys ? $"encryption on (key {keys.CurrentKey.Id:x8})" : "encryption off");
            }
            return exit;
        });
        return c;
    }

    internal static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:F1} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):F1} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):F2} GiB",
    };
}
