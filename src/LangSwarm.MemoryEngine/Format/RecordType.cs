namespace LangSwarm.MemoryEngine.Format;

/// <summary>What a record holds. Values are on disk: never renumber.</summary>
internal enum RecordType : byte
{
    /// <summary>One message; payload = the message codec (FORMAT.md §4.3).</summary>
    Message = 1,

    /// <summary>The full state of a session (create, metadata change, archive); payload = the session state codec (FORMAT.md §4.3).</summary>
    SessionState = 2,

    /// <summary>One summary; payload = the summary codec (FORMAT.md §4.3).</summary>
    Summary = 3,

    /// <summary>Messages leaving the live window; payload = varint count, then the ascending sequences as varint deltas (FORMAT.md §4.3).</summary>
    Evict = 4,

    /// <summary>The session is deleted; empty payload.</summary>
    SessionDelete = 5,
}

/// <summary>Record flag bits.</summary>
[Flags]
internal enum RecordFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>The payload is an LZ4 block; <see cref="RecordHeader.RawLength"/> is its decoded size.</summary>
    Lz4 = 1,

    /// <summary>A message that carries tool or function calls (kept in the header so the index needs no payload).</summary>
    HasCalls = 2,

    /// <summary>
    /// The stored payload is sealed (AES-256-GCM, FORMAT.md §13): key id, nonce, the sealed payload (an LZ4 block
    /// when <see cref="Lz4"/> is set, else raw), tag.
    /// </summary>
    Sealed = 4,
}
