namespace Smc.Integration.Tests.Infrastructure;

/// <summary>A temporary directory for one test class, deleted afterwards.</summary>
internal sealed class Sandbox : IDisposable
{
    public Sandbox() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "smc-it-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => Path.Combine(Root, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
