namespace LangSwarm.MemoryEngine;

/// <summary>What opening a store found and did.</summary>
/// <param name="CheckpointLoaded">True when the index checkpoint was used.</param>
/// <param name="CheckpointProblem">Why the checkpoint was not used, when it existed but was damaged.</param>
/// <param name="Sessions">Sessions in the recovered index.</param>
/// <param name="Messages">Live messages in the recovered index.</param>
/// <param name="SegmentRecordsReplayed">Records read from segment tails past the checkpoint.</param>
/// <param name="LogRecordsReplayed">Records replayed from the commit log into segments.</param>
/// <param name="TornBytesCut">Bytes of torn tails cut from segments (and ignored at log tails).</param>
/// <param name="Damage">Damaged records in the middle of files: reported, never returned as data.</param>
/// <param name="ForeignFiles">Files in the store directory that are not the engine's (left untouched).</param>
/// <param name="Elapsed">Time recovery took.</param>
public sealed record RecoveryResult(
    bool CheckpointLoaded,
    string? CheckpointProblem,
    int Sessions,
    long Messages,
    long SegmentRecordsReplayed,
    long LogRecordsReplayed,
    long TornBytesCut,
    IReadOnlyList<StoreDamage> Damage,
    IReadOnlyList<string> ForeignFiles,
    TimeSpan Elapsed)
{
    /// <summary>Time spent reading the checkpoint into the index.</summary>
    public TimeSpan CheckpointLoadTime { get; init; }

    /// <summary>Time spent listing and scanning segments (within the log replay too, for the sessions it names).</summary>
    public TimeSpan SegmentScanTime { get; init; }

    /// <summary>Time spent replaying commit logs.</summary>
    public TimeSpan LogReplayTime { get; init; }

    /// <summary>Segment files read past what the checkpoint covers (the sessions the logs name, or every one when listed).</summary>
    public int SegmentFilesRead { get; init; }

    /// <summary>
    /// Sessions whose log records the open placed in their segments without reading or writing those files;
    /// the bytes are written from the logs after the open, each session's before anything else uses it.
    /// </summary>
    public int SessionsDeferred { get; init; }

    /// <summary>
    /// True when every segment file was listed and scanned (no checkpoint to start from, a damaged log, or a
    /// read-only view); false when the open read only the segments of sessions the commit logs name.
    /// </summary>
    public bool SegmentsListed { get; init; }

    /// <summary>True when nothing was damaged (torn tails are normal after a crash and do not count).</summary>
    public bool Clean => Damage.Count == 0 && CheckpointProblem is null;
}

/// <summary>A damaged span in a store file.</summary>
/// <param name="File">Store-relative path.</param>
/// <param name="Offset">Byte offset of the damage.</param>
/// <param name="Length">Bytes skipped.</param>
/// <param name="Reason">What was wrong.</param>
public sealed record StoreDamage(string File, long Offset, long Length, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{File} @ {Offset} (+{Length} bytes): {Reason}";
}
