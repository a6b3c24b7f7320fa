using System.Security.Cryptography;

namespace Smc.Transfer.Tests;

/// <summary>Two job key pairs, made once (RSA-3072 generation takes a while).</summary>
public sealed class JobKeyFixture : IDisposable
{
    public RSA First { get; } = DataKeys.NewJobKey();

    public RSA Second { get; } = DataKeys.NewJobKey();

    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
    }
}
