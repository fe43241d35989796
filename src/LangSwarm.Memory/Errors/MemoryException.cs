namespace LangSwarm.Memory;

/// <summary>Base of every error the memory system raises on purpose (the seed's <c>MemoryError</c>).</summary>
public class MemoryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MemoryException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>A message is malformed: unknown role, empty or oversized content, invalid text.</summary>
public sealed class InvalidMessageException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public InvalidMessageException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>An operation names a session that does not exist (or no longer exists).</summary>
public sealed class SessionNotFoundException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public SessionNotFoundException(string sessionId)
        : base($"Session '{Describe(sessionId)}' does not exist.")
    {
        SessionId = sessionId;
    }

    /// <summary>The missing session's id.</summary>
    public string SessionId { get; }

    internal static string Describe(string id) => id.Length <= 80 ? id : id[..80] + "...";
}

/// <summary>A session with this id exists already.</summary>
public sealed class SessionAlreadyExistsException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public SessionAlreadyExistsException(string sessionId)
        : base($"Session '{SessionNotFoundException.Describe(sessionId)}' already exists.")
    {
        SessionId = sessionId;
    }

    /// <summary>The session's id.</summary>
    public string SessionId { get; }
}

/// <summary>A caller asked for a session that belongs to another user.</summary>
public sealed class SessionAccessDeniedException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public SessionAccessDeniedException(string sessionId)
        : base($"Session '{SessionNotFoundException.Describe(sessionId)}' belongs to another user.")
    {
        SessionId = sessionId;
    }

    /// <summary>The session's id.</summary>
    public string SessionId { get; }
}

/// <summary>The session is archived and takes no new messages.</summary>
public sealed class SessionArchivedException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public SessionArchivedException(string sessionId)
        : base($"Session '{SessionNotFoundException.Describe(sessionId)}' is archived and read-only.")
    {
    }
}

/// <summary>Configuration names an unknown backend or holds an invalid option.</summary>
public sealed class MemoryConfigurationException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public MemoryConfigurationException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>The backend is not connected, or its storage cannot be reached.</summary>
public sealed class BackendUnavailableException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public BackendUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>Stored data failed a check (checksum, format, version) and was not returned.</summary>
public class StorageCorruptionException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public StorageCorruptionException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
