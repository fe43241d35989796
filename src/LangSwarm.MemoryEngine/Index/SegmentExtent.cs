namespace LangSwarm.MemoryEngine.Index;

/// <summary>A segment of a session and how many bytes of it are valid.</summary>
internal record struct SegmentExtent(uint Segment, long Length);
