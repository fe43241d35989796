using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>Damage found since the open (reads that failed their checksum, index pages rebuilt, lost files).</summary>
internal sealed class RuntimeDamage
{
    // Bounded: a disk dying under a busy store must not grow this without end.
    private const int Limit = 1000;

    private readonly List<StoreDamage> _found = [];

    /// <summary>True once damage was found that only a full open repairs (a segment file lost from under the store).</summary>
    public bool NeedsFullOpen { get; private set; }

    /// <summary>Records <paramref name="damage"/> once; <paramref name="repairAtOpen"/> when the next open must not trust the checkpoint alone.</summary>
    public void Report(StoreDamage damage, bool repairAtOpen = false)
    {
        lock (_found)
        {
            NeedsFullOpen |= repairAtOpen;
            if (_found.Count < Limit && !_found.Contains(damage))
            {
                _found.Add(damage);
            }
        }
    }

    /// <summary>What was found so far.</summary>
    public StoreDamage[] Snapshot()
    {
        lock (_found)
        {
            return [.. _found];
        }
    }
}
