namespace LangSwarm.MemoryEngine;

/// <summary>What a vacuum did.</summary>
/// <param name="SessionsRewritten">Sessions whose segments were rewritten.</param>
/// <param name="SessionsSkipped">Candidates left for a later pass (written to during the rewrite).</param>
/// <param name="BytesBefore">Store bytes before.</param>
/// <param name="BytesAfter">Store bytes after.</param>
/// <param name="Elapsed">Time taken.</param>
public sealed record VacuumReport(int SessionsRewritten, int SessionsSkipped, long BytesBefore, long BytesAfter, TimeSpan Elapsed)
{
    /// <summary>Bytes the index file shrank by when the vacuum repacked it (0: it was dense enough).</summary>
    public long IndexBytesReclaimed { get; init; }

    /// <summary>Small sessions moved into shared pack files (their own files deleted).</summary>
    public int SessionsPacked { get; init; }

    /// <summary>Bytes given back to the file system.</summary>
    public long BytesReclaimed => Math.Max(0, BytesBefore - BytesAfter);
}
