using Spectre.Console;

namespace LangSwarm.Memory.Cli;

/// <summary>The parts of a transcript line, each drawn in its own colour on a terminal.</summary>
internal enum TranscriptStyle
{
    Plain,
    Header,
    Dim,
    System,
    User,
    Assistant,
    Tool,
    Call,
    Summary,
}

/// <summary>Writes transcript text: styled through Spectre.Console on a terminal, plain text otherwise.</summary>
internal abstract class TranscriptWriter
{
    /// <summary>Plain text to a writer (a pipe, a file, a test).</summary>
    public static TranscriptWriter Plain(TextWriter writer) => new PlainWriter(writer);

    /// <summary>Coloured text to a terminal.</summary>
    public static TranscriptWriter Styled(IAnsiConsole console) => new StyledWriter(console);

    /// <summary>Writes a piece of a line.</summary>
    public abstract void Write(string text, TranscriptStyle style = TranscriptStyle.Plain);

    /// <summary>Ends the line.</summary>
    public abstract void EndLine();

    private sealed class PlainWriter(TextWriter writer) : TranscriptWriter
    {
        public override void Write(string text, TranscriptStyle style = TranscriptStyle.Plain) => writer.Write(text);

        public override void EndLine() => writer.Write('\n');
    }

    private sealed class StyledWriter(IAnsiConsole console) : TranscriptWriter
    {
        public override void Write(string text, TranscriptStyle style = TranscriptStyle.Plain) => console.Write(new Text(text, StyleOf(style)));

        public override void EndLine() => console.WriteLine();

        private static Style StyleOf(TranscriptStyle style) => style switch
        {
            TranscriptStyle.Header => new Style(decoration: Decoration.Bold),
            TranscriptStyle.Dim => new Style(Color.Grey),
            TranscriptStyle.System => new Style(Color.Grey, decoration: Decoration.Bold),
            TranscriptStyle.User => new Style(Color.Green, decoration: Decoration.Bold),
            TranscriptStyle.Assistant => new Style(Color.DeepSkyBlue1, decoration: Decoration.Bold),
            TranscriptStyle.Tool => new Style(Color.Yellow, decoration: Decoration.Bold),
            TranscriptStyle.Call => new Style(Color.Yellow),
            TranscriptStyle.Summary => new Style(Color.Magenta1),
            _ => Style.Plain,
        };
    }
}
