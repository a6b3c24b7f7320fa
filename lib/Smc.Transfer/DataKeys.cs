using System.Security.Cryptography;

namespace Smc.Transfer;

/// <summary>
/// The key hierarchy (docs/wire-format.md, "Keys"): a per-job RSA-3072 key pair made by the control plane, and a
/// per-round AES-256 data key that the agent makes, wraps with the job public key (RSA-OAEP-SHA256) and carries in
/// the round's manifest.
/// </summary>
public static class DataKeys
{
    /// <summary>Size of a job key in bits.</summary>
    public const int JobKeySizeBits = 3072;

    /// <summary>A new random 32-byte AES-256 data key.</summary>
    public static byte[] NewDataKey() => RandomNumberGenerator.GetBytes(ChunkCodec.DataKeyLength);

    /// <summary>Base64 of <paramref name="dataKey"/> encrypted with RSA-OAEP-SHA256 under <paramref name="publicKey"/>.</summary>
    public static string Wrap(ReadOnlySpan<byte> dataKey, RSA publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        if (dataKey.Length != ChunkCodec.DataKeyLength)
        {
            throw new ArgumentException($"A data key is {ChunkCodec.DataKeyLength} bytes, not {dataKey.Length}.", nameof(dataKey));
        }

        return Convert.ToBase64String(publicKey.Encrypt(dataKey.ToArray(), RSAEncryptionPadding.OaepSHA256));
    }

    /// <summary>The data key inside <paramref name="wrapped"/> (as <see cref="Wrap"/> made it).</summary>
    /// <exception cref="ChunkIntegrityException">Code <c>KeyUnwrapFailed</c>: not base64, not for this key, or not a 32-byte key.</exception>
    public static byte[] Unwrap(string wrapped, RSA privateKey)
    {
        ArgumentNullException.ThrowIfNull(wrapped);
        ArgumentNullException.ThrowIfNull(privateKey);
        byte[] key;
        try
        {
            key = privateKey.Decrypt(Convert.FromBase64String(wrapped), RSAEncryptionPadding.OaepSHA256);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new ChunkIntegrityException(
                ChunkErrorCodes.KeyUnwrapFailed,
                "The wrapped data key cannot be unwrapped with this private key (wrong job key, or the manifest was altered).",
                ex);
        }

        if (key.Length != ChunkCodec.DataKeyLength)
        {
            CryptographicOperations.ZeroMemory(key);
            throw new ChunkIntegrityException(
                ChunkErrorCodes.KeyUnwrapFailed,
                $"The wrapped data key is {key.Length} bytes, not {ChunkCodec.DataKeyLength}.");
        }

        return key;
    }

    /// <summary>Lowercase hex SHA-256 of the key's SubjectPublicKeyInfo DER (works on a public or a private key).</summary>
    public static string Fingerprint(RSA publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        return Convert.ToHexStringLower(SHA256.HashData(publicKey.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>A new RSA-3072 job key pair. The caller owns (and disposes) it.</summary>
    public static RSA NewJobKey() => RSA.Create(JobKeySizeBits);
}
