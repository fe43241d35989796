namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>What a smoke run found.</summary>
public sealed record SmokeResult(string Target, int Iterations, Exception? Failure, byte[]? FailingInput)
{
    /// <summary>True when no invariant broke.</summary>
    public bool Passed => Failure is null;
}

/// <summary>
/// The uninstrumented mode: every corpus input as it is, then <c>N</c> deterministic mutations of them, run
/// in-process; stops at the first invariant violation (an undocumented exception, a bound broken, or a hang).
/// </summary>
public static class Smoke
{
    /// <summary>Longest one input may run before it counts as a hang.</summary>
    public static TimeSpan HangTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="iterations"/> mutations of the seeds (generated ones plus <paramref name="corpusRoot"/>'s files).</summary>
    public static SmokeResult Run(string target, int iterations, int seed, string? corpusRoot, TextWriter? log = null)
    {
        var inputs = Seeds.For(target).Select(s => s.Bytes).Concat(Seeds.Load(corpusRoot, target).Select(s => s.Bytes)).ToList();
        var mutator = new Mutator(seed);
        var done = 0;
        foreach (var input in inputs)
        {
            if (Once(target, input) is { } failure)
            {
                return new SmokeResult(target, done, failure, input);
            }
        }
        for (var i = 0; i < iterations; i++)
        {
            var input = mutator.Mutate(inputs[mutator.Random.Next(inputs.Count)], inputs[mutator.Random.Next(inputs.Count)]);
            if (Once(target, input) is { } failure)
            {
                return new SmokeResult(target, done, failure, input);
            }
            done++;
            if (log is not null && done % 1000 == 0)
            {
                log.WriteLine($"{target}: {done} iterations");
            }
        }
        return new SmokeResult(target, done, null, null);
    }

    /// <summary>Runs one input; the violation, if any.</summary>
    public static Exception? Once(string target, byte[] input)
    {
        var task = Task.Factory.StartNew(() => Targets.RunChecked(target, input), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!task.Wait(HangTimeout))
            {
                return new InvariantViolationException($"target '{target}' ran longer than {HangTimeout.TotalSeconds:0} s on one input (hang)");
            }
            return null;
        }
        catch (AggregateException ex)
        {
            return ex.InnerException ?? ex;
        }
    }
}
