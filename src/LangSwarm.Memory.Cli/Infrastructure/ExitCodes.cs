namespace LangSwarm.Memory.Cli;

/// <summary>The exit codes of every lsmem command (README "lsmem").</summary>
internal static class ExitCodes
{
    /// <summary>Done, nothing wrong.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and found problems: damage, sessions not imported, a verify mismatch, an unhealthy store.</summary>
    public const int Problems = 1;

    /// <summary>Bad usage: an unknown command or option, a bad value, a store or session that does not exist.</summary>
    public const int Usage = 2;
}

/// <summary>The command line asks for something that cannot be done as asked; exit code 2 with the message.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
