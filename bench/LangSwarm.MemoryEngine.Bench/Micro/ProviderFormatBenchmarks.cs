using BenchmarkDotNet.Attributes;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Bench.Micro;

/// <summary>OpenAI and Anthropic conversion of a 40-message conversation with tool calls.</summary>
[MemoryDiagnoser]
public class ProviderFormatBenchmarks
{
    private List<Message> _messages = [];
    private System.Text.Json.Nodes.JsonArray _openAi = [];
    private AnthropicConversation _anthropic = new(null, []);

    /// <summary>Builds the conversation and its provider forms.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var data = new DataGenerator(64);
        _messages = [new Message(MessageRole.System, "You are a helpful assistant."), .. data.MixedBatch(0, 40)];
        _openAi = OpenAIFormat.MessagesToOpenAIFormat(_messages);
        _anthropic = AnthropicFormat.MessagesToAnthropicFormat(_messages);
    }

    /// <summary>To OpenAI chat messages.</summary>
    [Benchmark]
    public int ToOpenAI() => OpenAIFormat.MessagesToOpenAIFormat(_messages).Count;

    /// <summary>From OpenAI chat messages.</summary>
    [Benchmark]
    public int FromOpenAI() => OpenAIFormat.MessagesFromOpenAIFormat(_openAi).Count;

    /// <summary>To Anthropic messages (system split out, tool results as blocks).</summary>
    [Benchmark]
    public int ToAnthropic() => AnthropicFormat.MessagesToAnthropicFormat(_messages).Messages.Count;

    /// <summary>From Anthropic messages.</summary>
    [Benchmark]
    public int FromAnthropic() => AnthropicFormat.MessagesFromAnthropicFormat(_anthropic).Count;
}
