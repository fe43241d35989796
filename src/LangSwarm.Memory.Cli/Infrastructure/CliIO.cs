using System.CommandLine;
using Spectre.Console;

namespace LangSwarm.Memory.Cli;

/// <summary>
/// Where a command writes: the invocation's output and error writers, and whether each is a terminal (colours and
/// progress bars) or a pipe, a file or a test's writer (plain text, one summary line).
/// </summary>
internal sealed class CliIO
{
    private CliIO(TextWriter output, TextWriter error, bool outputIsTerminal, bool errorIsTerminal)
    {
        Out = output;
        Err = error;
        OutIsTerminal = outputIsTerminal;
        ErrIsTerminal = errorIsTerminal;
    }

    /// <summary>Standard output (or the writer the invocation was given).</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error (or the writer the invocation was given).</summary>
    public TextWriter Err { get; }

    /// <summary>True when <see cref="Out"/> is the console and not redirected.</summary>
    public bool OutIsTerminal { get; }

    /// <summary>True when <see cref="Err"/> is the console and not redirected.</summary>
    public bool ErrIsTerminal { get; }

    /// <summary>The writers of an invocation.</summary>
    public static CliIO From(ParseResult parseResult)
    {
        var config = parseResult.InvocationConfiguration;
        var output = config.Output;
        var error = config.Error;
        return new CliIO(
            output,
            error,
            ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected,
            ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);
    }

    /// <summary>Writers that are not a terminal (plain text, no progress bar).</summary>
    public static CliIO Plain(TextWriter output, TextWriter error) => new(output, error, false, false);

    /// <summary>A Spectre console over <see cref="Out"/> (colours as the terminal supports them).</summary>
    public IAnsiConsole StyledOut() => Styled(Out);

    /// <summary>A Spectre console over <see cref="Err"/>, for progress bars.</summary>
    public IAnsiConsole StyledErr() => Styled(Err);

    private static IAnsiConsole Styled(TextWriter writer) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = AnsiSupport.Detect,
        ColorSystem = ColorSystemSupport.Detect,
        Interactive = InteractionSupport.Detect,
    });
}
