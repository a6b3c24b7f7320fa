using System.Security.Cryptography;
using System.Text;

namespace Smc.Core.Security;

/// <summary>
/// A bearer secret of the form <c>{ownerId}.{random}</c>: activation codes, agent credentials, operator keys.
/// Only its SHA-256 is stored (the random part has 256 bits, so a slow KDF adds nothing). ToString redacts.
/// </summary>
public sealed class Secret
{
    private readonly string _value;

    private Secret(string value) => _value = value;

    /// <summary>The id before the dot (who the secret belongs to).</summary>
    public string OwnerId => _value[.._value.IndexOf('.', StringComparison.Ordinal)];

    public static Secret New(string ownerId)
    {
        byte[] random = RandomNumberGenerator.GetBytes(32);
        return new Secret(ownerId + "." + Base64Url(random));
    }

    /// <summary>Parses a presented secret; null when it has no owner part.</summary>
    public static Secret? Parse(string? presented)
    {
        if (string.IsNullOrWhiteSpace(presented) || presented.Length > 512)
        {
            return null;
        }

        string trimmed = presented.Trim();
        int dot = trimmed.IndexOf('.', StringComparison.Ordinal);
        return dot <= 0 || dot == trimmed.Length - 1 ? null : new Secret(trimmed);
    }

    /// <summary>The value to hand to the user once. Never log it.</summary>
    public string Reveal() => _value;

    public string Hash() => HashOf(_value);

    public bool Matches(string? storedHash) =>
        storedHash is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash()), Encoding.ASCII.GetBytes(storedHash));

    public static string HashOf(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public override string ToString() => OwnerId + ".***";

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
