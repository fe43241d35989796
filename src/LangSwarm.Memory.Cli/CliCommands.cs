using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory.Cli;

/// <summary>The lsmem commands.</summary>
internal static class CliCommands
{
    internal static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return Backends();
        yield return SessionsCommand.Create();
        yield return ShowCommand.Create();
        yield return StatsCommand.Create();
        yield return ExportCommand.Create();
        yield return ImportCommand.Create();
        yield return MigrateCommand.Create();
        yield return VerifyCommand.Create();
        yield return BackupCommand.Backup();
        yield return BackupCommand.Restore();
        yield return VacuumCommand.Create();
        yield return WriteLoadCommand.Create();
    }

    private static Command Backends()
    {
        var c = new Command("backends", "List the backends this build can use.");
        CommandRunner.SetAction(c, async (_, io, _) =>
        {
            foreach (var name in MemoryFactory.Default.GetAvailableBackends())
            {
                await io.Out.WriteLineAsync(name);
            }
            return ExitCodes.Ok;
        });
        return c;
    }

    internal static string Json(JsonNode node) => node.ToJsonString(Pretty);
}
