namespace LangSwarm.Memory;

/// <summary>
/// A portable session (from an export file or an older store) that cannot be stored as it is: a message breaks the
/// limits, sequences do not ascend, a summary names sequences the session never had. Nothing of it was written.
/// </summary>
public sealed class InvalidPortableSessionException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public InvalidPortableSessionException(string sessionId, string message, Exception? inner = null)
        : base($"session '{sessionId}': {message}", inner)
    {
        SessionId = sessionId;
    }

    /// <summary>The session the record describes.</summary>
    public string SessionId { get; }
}
