using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Smc.Core.Options;

namespace Smc.Core.Security;

/// <summary>The 256-bit key that seals job private keys, fingerprint keys and the data keys an image map keeps (AES-256-GCM). Never logged, never in a history.</summary>
public sealed class MasterKey(IOptions<SecurityOptions> options)
{
    private readonly Lazy<byte[]> _key = new(() => Load(options.Value));

    public byte[] Seal(ReadOnlySpan<byte> plain, ReadOnlySpan<byte> context)
    {
        byte[] output = new byte[12 + 16 + plain.Length];
        RandomNumberGenerator.Fill(output.AsSpan(0, 12));
        using var gcm = new AesGcm(_key.Value, 16);
        gcm.Encrypt(output.AsSpan(0, 12), plain, output.AsSpan(28), output.AsSpan(12, 16), context);
        return output;
    }

    public byte[] Open(ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> context)
    {
        if (sealedBytes.Length < 28)
        {
            throw new CryptographicException("Sealed key material is truncated.");
        }

        byte[] plain = new byte[sealedBytes.Length - 28];
        using var gcm = new AesGcm(_key.Value, 16);
        gcm.Decrypt(sealedBytes[..12], sealedBytes[28..], sealedBytes.Slice(12, 16), plain, context);
        return plain;
    }

    private static byte[] Load(SecurityOptions o)
    {
        if (!string.IsNullOrWhiteSpace(o.MasterKey))
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(o.MasterKey);
            }
            catch (FormatException)
            {
                throw new InvalidOperationException("SMC_SECURITY__MASTERKEY must be base64 of 32 bytes (e.g. head -c 32 /dev/urandom | base64).");
            }

            return key.Length == 32 ? key : throw new InvalidOperationException("SMC_SECURITY__MASTERKEY must be base64 of exactly 32 bytes.");
        }

        string path = o.MasterKeyFile;
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            byte[] fresh = RandomNumberGenerator.GetBytes(32);
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                using var f = new FileStream(path, create);
                f.Write(Convert.ToBase64String(fresh).Select(c => (byte)c).ToArray());
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another host on this machine made it first: use theirs.
            }
        }

        byte[] stored = Convert.FromBase64String(File.ReadAllText(path).Trim());
        return stored.Length == 32 ? stored : throw new InvalidOperationException($"{path} does not hold a 32-byte base64 key.");
    }
}
