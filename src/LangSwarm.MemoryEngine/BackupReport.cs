namespace LangSwarm.MemoryEngine;

/// <summary>What a backup wrote (<see cref="EngineBackend.BackupAsync(string, bool, IProgress{CopyProgress}?, CancellationToken)"/>).</summary>
/// <param name="Destination">The backup's directory: a store that opens as it is.</param>
/// <param name="StartedAt">When the backup began: every add acknowledged before it is in the backup.</param>
/// <param name="Files">Files copied.</param>
/// <param name="Bytes">Bytes copied.</param>
/// <param name="Attempts">Copy attempts (a checkpoint of another process's writer during one starts it again).</param>
/// <param name="Elapsed">Time taken, the verification included.</param>
/// <param name="Verify">The verification of the backup (opened and checked like <c>lsmem verify</c>), when asked for.</param>
public sealed record BackupReport(string Destination, DateTimeOffset StartedAt, int Files, long Bytes, int Attempts, TimeSpan Elapsed, VerifyReport? Verify);
