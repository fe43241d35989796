namespace LangSwarm.Memory;

/// <summary>Counts tokens the way the target model does; plug another implementation for another model family.</summary>
public interface ITokenCounter
{
    /// <summary>Tokens of a text.</summary>
    int CountTokens(string text);

    /// <summary>Tokens a message costs in a chat request, framing included.</summary>
    int CountMessageTokens(Message message);
}
