using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Smc.Transfer.Tests;

/// <summary>Deterministic test inputs.</summary>
internal static class TestData
{
    public const string JobId = "j-qrstuvwxyz234567";

    /// <summary>Pseudo-random bytes: SHA-256 of (seed, counter) blocks; the same on every runtime.</summary>
    public static byte[] Random(int length, int seed)
    {
        byte[] result = new byte[length];
        Span<byte> input = stackalloc byte[8];
        Span<byte> block = stackalloc byte[32];
        for (int counter = 0, done = 0; done < length; counter++, done += 32)
        {
            BinaryPrimitives.WriteInt32LittleEndian(input, seed);
            BinaryPrimitives.WriteInt32LittleEndian(input[4..], counter);
            SHA256.HashData(input, block);
            block[..Math.Min(32, length - done)].CopyTo(result.AsSpan(done));
        }

        return result;
    }

    /// <summary>Text-like bytes that zstd compresses several times over.</summary>
    public static byte[] Compressible(int length)
    {
        var text = new StringBuilder(length + 100);
        for (int line = 0; text.Length < length; line++)
        {
            text.Append("block ").Append(line).Append(": Lorem ipsum dolor sit amet, consectetur adipiscing elit ")
                .Append(line % 17).Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }

    public static byte[] Key(byte fill)
    {
        byte[] key = new byte[32];
        key.AsSpan().Fill(fill);
        return key;
    }

    /// <summary>Seals with a random nonce into an exactly sized array.</summary>
    public static byte[] Seal(byte[] plain, ChunkAddress address, byte[] key, int level = 1)
    {
        byte[] frame = new byte[ChunkCodec.MaxFrameLength(plain.Length)];
        int length = ChunkCodec.Seal(plain, address, key, level, frame);
        return frame.AsSpan(0, length).ToArray();
    }
}
