using Smc.Disks.Tests.Support;

namespace Smc.Disks.Tests;

/// <summary>One temporary directory per test class, deleted afterwards.</summary>
public sealed class TempDirFixture : IDisposable
{
    public TempDir Dir { get; } = new("tests");

    public void Dispose() => Dir.Dispose();
}
