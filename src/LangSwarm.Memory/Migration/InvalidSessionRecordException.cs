namespace LangSwarm.Memory;

/// <summary>
/// A session record (from an export file or an older store) that cannot be stored as it is: a message breaks the
/// limits, sequences do not ascend, a summary names sequences the session never had. Nothing of it was written.
/// </summary>
public sealed class InvalidSessionRecordException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public InvalidSessionRecordException(string sessionId, string message, Exception? inner = null)
        : base($"session '{sessionId}': {message}", inner)
    {
        SessionId = sessionId;
    }

    /// <summary>The session the record describes.</summary>
    public string SessionId { get; }
}
