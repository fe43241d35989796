namespace LangSwarm.Memory;

/// <summary>Why a summary was made.</summary>
public enum SummaryType : byte
{
    /// <summary>Triggered automatically by the session's threshold.</summary>
    Auto = 0,
    /// <summary>Requested by the caller.</summary>
    Manual = 1,
    /// <summary>Made by the periodic strategy every <c>AutoSummarizeThreshold</c> messages.</summary>
    Periodic = 2,
}

/// <summary>How a session summarizes itself as it grows.</summary>
public enum SummaryStrategy : byte
{
    /// <summary>Every <c>AutoSummarizeThreshold</c> new messages, summarize those messages.</summary>
    Periodic = 0,
    /// <summary>Every <c>AutoSummarizeThreshold</c> new messages, fold them into one running summary of the whole conversation.</summary>
    Rolling = 1,
    /// <summary>Never summarize automatically; only <c>CreateSummaryAsync</c> makes summaries.</summary>
    Manual = 2,
}
