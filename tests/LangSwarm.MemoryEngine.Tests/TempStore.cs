namespace LangSwarm.MemoryEngine.Tests;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
internal sealed class TempStore : IDisposable
{
    public TempStore()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lsmem-test-" + Guid.NewGuid().ToString("N")[..12]);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
        catch (IOException)
        {
            // A handle still closing on a slow runner; the OS temp cleaner takes it.
        }
    }
}
