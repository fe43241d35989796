namespace LangSwarm.MemoryEngine;

/// <summary>How fresh a read-only view is (<see cref="EngineOptions.ReadOnly"/>).</summary>
/// <param name="TakenAt">When the view copied the store's index and logs: it holds what was acknowledged before then.</param>
/// <param name="WriterActive">Whether another process held the store open then (its later adds are not in the view).</param>
/// <param name="Attempts">Copy attempts it took (a checkpoint of the writer during one starts it again).</param>
public sealed record ReadOnlySnapshot(DateTimeOffset TakenAt, bool WriterActive, int Attempts);
