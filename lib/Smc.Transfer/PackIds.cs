using System.Security.Cryptography;

namespace Smc.Transfer;

/// <summary>
/// Pack ids: 16 random lowercase hexadecimal characters (64 bits). Random rather than a content hash, so a pack can
/// be named before it is complete and a retried upload never collides with a pack of another round or agent.
/// </summary>
public static class PackIds
{
    /// <summary>A new random pack id, valid for <see cref="Smc.Wire.Staging.StagingNames.Pack"/>.</summary>
    public static string New()
    {
        Span<byte> random = stackalloc byte[8];
        RandomNumberGenerator.Fill(random);
        return Convert.ToHexStringLower(random);
    }
}
