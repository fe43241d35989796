using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LangSwarm.Memory.Hosting;

/// <summary>
/// Checks a store's options when the host starts: the backend exists and accepts its options (its provider
/// is asked to make one, which touches no storage), the session defaults and retention are in range, and a
/// chat-client summarizer has a chat client to use. Each failure names the store and the setting.
/// </summary>
internal sealed class LangSwarmMemoryOptionsValidator(IServiceProvider services) : IValidateOptions<LangSwarmMemoryOptions>
{
    public ValidateOptionsResult Validate(string? name, LangSwarmMemoryOptions options)
    {
        var store = string.IsNullOrEmpty(name) ? "LangSwarm memory" : $"LangSwarm memory store '{name}'";
        var failures = new List<string>();
        CheckSessions(options.Sessions, failures);
        CheckRetention(options.Retention, failures);
        CheckSummarizer(options.Summarizer, failures);
        if (string.IsNullOrWhiteSpace(options.Backend))
        {
            failures.Add("Backend is required (engine, sqlite, redis, in_memory, or a preset: development, testing, production).");
        }
        else
        {
            try
            {
                var backend = MemoryFactory.Default.CreateBackend(MemoryStore.Configuration(options));
                backend.DisposeAsync().AsTask().GetAwaiter().GetResult(); // never connected: nothing to close
            }
            catch (Exception ex) when (ex is MemoryException or ArgumentException)
            {
                failures.Add(ex.Message);
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures.Select(f => $"{store}: {f}"));
    }

    private static void CheckSessions(MemorySessionDefaults s, List<string> failures)
    {
        if (s.MaxMessages is <= 0)
        {
            failures.Add($"Sessions:MaxMessages must be positive (got {s.MaxMessages}).");
        }
        if (s.MaxTokens is <= 0)
        {
            failures.Add($"Sessions:MaxTokens must be positive (got {s.MaxTokens}).");
        }
        if (s.AutoSummarizeThreshold is < 0)
        {
            failures.Add($"Sessions:AutoSummarizeThreshold must be 0 (off) or positive (got {s.AutoSummarizeThreshold}).");
        }
        if (s.EvictionLowWater is { } low && !(low > 0 && low <= 1))
        {
            failures.Add($"Sessions:EvictionLowWater must be in (0, 1] (got {low}).");
        }
        if (s.SummaryStrategy is { } strategy && !Enum.IsDefined(strategy))
        {
            failures.Add($"Sessions:SummaryStrategy must be one of {string.Join(", ", Enum.GetNames<SummaryStrategy>())}.");
        }
    }

    private static void CheckRetention(MemoryRetentionOptions r, List<string> failures)
    {
        if (r.MaxAgeDays is < 0 || r.ArchivedMaxAgeDays is < 0)
        {
            failures.Add("Retention:MaxAgeDays and Retention:ArchivedMaxAgeDays must not be negative.");
        }
        if (r.Interval is { } interval && (interval < TimeSpan.FromMilliseconds(10) || interval.TotalMilliseconds > int.MaxValue))
        {
            failures.Add($"Retention:Interval must be between 10 ms and {TimeSpan.FromMilliseconds(int.MaxValue)} (got {interval}).");
        }
    }

    private void CheckSummarizer(MemorySummarizerOptions s, List<string> failures)
    {
        if (string.Equals(s.Kind, MemorySummarizerOptions.Extractive, StringComparison.OrdinalIgnoreCase))
        {
            // nothing else to check
        }
        else if (string.Equals(s.Kind, MemorySummarizerOptions.ChatClient, StringComparison.OrdinalIgnoreCase))
        {
            var found = s.ChatClientKey is { } key
                ? services.GetService<IServiceProviderIsKeyedService>()?.IsKeyedService(typeof(IChatClient), key) ?? true
                : services.GetService<IServiceProviderIsService>()?.IsService(typeof(IChatClient)) ?? true;
            if (!found)
            {
                failures.Add(s.ChatClientKey is { } k
                    ? $"Summarizer:Kind is chat_client but no IChatClient is registered with key '{k}'."
                    : "Summarizer:Kind is chat_client but no IChatClient is registered (services.AddChatClient(...)).");
            }
        }
        else
        {
            failures.Add($"Summarizer:Kind must be '{MemorySummarizerOptions.Extractive}' or '{MemorySummarizerOptions.ChatClient}' (got '{s.Kind}').");
        }
        if (s.MaxConcurrency is < 1)
        {
            failures.Add($"Summarizer:MaxConcurrency must be at least 1 (got {s.MaxConcurrency}).");
        }
        if (s.RetryDelay is { } d && d <= TimeSpan.Zero || s.MaxRetryDelay is { } m && m <= TimeSpan.Zero)
        {
            failures.Add("Summarizer:RetryDelay and Summarizer:MaxRetryDelay must be positive.");
        }
    }
}
