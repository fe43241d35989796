namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>What the steps of one recovery find and share: damage, foreign files, bytes cut, and the next LSN and session number.</summary>
internal sealed class RecoveryTally
{
    public List<StoreDamage> Damage { get; } = [];

    public List<string> Foreign { get; } = [];

    public long Torn { get; set; }

    public ulong NextLsn { get; set; } = 1;

    public ulong NextSession { get; set; } = 1;
}
