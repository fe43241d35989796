using LangSwarm.Memory;
using LangSwarm.Memory.Redis;

[assembly: MemoryBackendProvider(typeof(RedisBackendProvider))]
