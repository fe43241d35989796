using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>A fuzz target broke one of its invariants: the input is a crash.</summary>
public sealed class InvariantViolationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvariantViolationException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>The exceptions the engine documents for damaged input; anything else escaping is a bug.</summary>
public static class Invariants
{
    /// <summary>
    /// True when <paramref name="ex"/> is a documented failure: <see cref="InvalidDataException"/>, the
    /// <see cref="MemoryException"/> family (whose cause, if any, must itself be documented or an I/O error) —
    /// <see cref="EncryptionKeyException"/> (a store, page or record sealed with a key the open was not given, or
    /// the wrong key) included —, or a plain <see cref="ArgumentException"/> (not out-of-range, not null).
    /// </summary>
    public static bool IsAllowed(Exception ex) => ex switch
    {
        InvalidDataException => true,
        EncryptionKeyException k => k.InnerException is null || IsAllowedCause(k.InnerException),
        MemoryException m => m.InnerException is null || IsAllowedCause(m.InnerException),
        ArgumentOutOfRangeException or ArgumentNullException => false,
        ArgumentException => true,
        _ => false,
    };

    private static bool IsAllowedCause(Exception ex) => ex switch
    {
        InvalidDataException => true,
        EncryptionKeyException k => k.InnerException is null || IsAllowedCause(k.InnerException),
        MemoryException m => m.InnerException is null || IsAllowedCause(m.InnerException),
        IOException io => io.InnerException is null || IsAllowedCause(io.InnerException),
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="action"/>; a documented failure is swallowed (and returned), any other is a violation.
    /// </summary>
    public static Exception? Expect(string what, Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (InvariantViolationException)
        {
            throw;
        }
        catch (Exception ex) when (IsAllowed(ex))
        {
            // Documented rejection of damaged input.
            return ex;
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"{what}: undocumented {ex.GetType().FullName} escaped: {ex.Message}", ex);
        }
    }

    /// <summary>Throws a violation when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantViolationException(message);
        }
    }
}
