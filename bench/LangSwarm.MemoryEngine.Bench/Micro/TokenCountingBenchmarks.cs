using BenchmarkDotNet.Attributes;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Bench.Micro;

/// <summary>Token counting (o200k_base) of chat messages.</summary>
[MemoryDiagnoser]
public class TokenCountingBenchmarks
{
    private Message _message = new();

    /// <summary>Message content size in bytes.</summary>
    [Params(200, 1024, 4096)]
    public int Size { get; set; }

    /// <summary>Loads the tokenizer and builds the message.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _message = new Message(MessageRole.Assistant, DataGenerator.Text(new Random(DataGenerator.Seed), Size));
        _ = TiktokenCounter.Default.CountMessageTokens(_message);
    }

    /// <summary>Tokens of one message (content, framing).</summary>
    [Benchmark]
    public int CountMessageTokens() => TiktokenCounter.Default.CountMessageTokens(_message);
}
