namespace LangSwarm.MemoryEngine;

/// <summary>How far a backup or restore has copied.</summary>
/// <param name="Bytes">Bytes copied so far.</param>
/// <param name="TotalBytes">Bytes to copy in this attempt.</param>
public readonly record struct CopyProgress(long Bytes, long TotalBytes);
