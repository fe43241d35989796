using Spectre.Console;
using Spectre.Console.Rendering;

namespace LangSwarm.Memory.Cli;

/// <summary>
/// Shows long work: on a terminal (standard error), a Spectre.Console progress bar with rate and time left; when
/// standard error is not a terminal or with <c>--quiet</c>, nothing until the command's one summary line.
/// </summary>
internal static class ProgressView
{
    /// <summary>Runs <paramref name="work"/>, showing its progress in <paramref name="unit"/> out of <paramref name="total"/> (null: unknown).</summary>
    public static async Task<T> RunAsync<T>(CliIO io, bool quiet, string label, string unit, long? total, Func<ProgressTicker, Task<T>> work)
    {
        if (quiet || !io.ErrIsTerminal)
        {
            return await work(new ProgressTicker(null)).ConfigureAwait(false);
        }
        return await io.StyledErr().Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RateColumn(unit), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(label, maxValue: Math.Max(1, total ?? 1));
                task.IsIndeterminate = total is null;
                var result = await work(new ProgressTicker(task)).ConfigureAwait(false);
                task.IsIndeterminate = false;
                task.Value = task.MaxValue;
                task.StopTask();
                return result;
            }).ConfigureAwait(false);
    }

    /// <summary>Items per second of a task, as <c>123.4 sessions/s</c>.</summary>
    private sealed class RateColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } speed ? $"{speed:N1} {unit}/s" : $"- {unit}/s", new Style(Color.Grey));
    }
}

/// <summary>What long work reports as it goes: items done, and the total once known.</summary>
internal sealed class ProgressTicker(ProgressTask? task)
{
    /// <summary>Items done so far.</summary>
    public long Done { get; private set; }

    /// <summary>Counts <paramref name="items"/> more done.</summary>
    public void Advance(long items = 1)
    {
        Done += items;
        task?.Increment(items);
    }

    /// <summary>Sets the total once it is known.</summary>
    public void SetTotal(long total)
    {
        if (task is not null)
        {
            task.MaxValue = Math.Max(1, total);
            task.IsIndeterminate = false;
        }
    }
}
