using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>Damage found since the open (reads that failed their checksum, index pages rebuilt, lost files).</summary>
internal sealed class RuntimeDamage
{
    // Bounded: a disk dying under a busy store must not grow this without end.
    private const int Limit = 1000;

    private readonly List<StoreDamage> _found = [];

    /// <summary>Records <paramref name="damage"/> once.</summary>
    public void Report(StoreDamage damage)
    {
        lock (_found)
        {
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
