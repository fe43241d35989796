using System.Security.Cryptography;
using System.Text;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// A Lua script with its SHA1 computed once, so a hot-path call sends <c>EVALSHA</c> without hashing or looking up
/// the script's text per call (<see cref="RedisConnection.EvaluateAsync"/>).
/// </summary>
internal sealed class RedisScript
{
    /// <summary>Wraps a script's text.</summary>
    public RedisScript(string text)
    {
        Text = text;
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>The script's text (sent when the server does not have it).</summary>
    public string Text { get; }

    /// <summary>The SHA1 of the text, as <c>SCRIPT LOAD</c> answers it.</summary>
    public byte[] Hash { get; }
}
