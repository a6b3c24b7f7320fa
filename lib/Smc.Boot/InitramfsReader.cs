using System.IO.Compression;
using System.Text;

namespace Smc.Boot;

/// <summary>
/// The file names in an initramfs as distributions ship it: one or more cpio archives (newc, <c>070701</c>/<c>070702</c>)
/// back to back, each plain (early microcode) or compressed with gzip or zstd. Names only: file data is skipped as it
/// streams, so an initramfs of any size is read in a few buffers. Another compression (xz, lz4, bzip2) is reported as
/// such, not guessed at. Hand-written: no served package reads cpio; gzip is the BCL's, zstd ZstdSharp's.
/// </summary>
public static class InitramfsReader
{
    /// <summary>Names at most (a distribution's initramfs holds a few thousand).</summary>
    public const int MaxEntries = 200_000;

    /// <summary>Uncompressed bytes read at most.</summary>
    public const long MaxBytes = 2L << 30;

    private const int HeaderLength = 110;

    /// <summary>The names in <paramref name="initramfs"/>, and the compression of a part that could not be read (null when all was read).</summary>
    /// <exception cref="InvalidDataException">A corrupt archive or compressed stream.</exception>
    public static (List<string> Names, string? Unreadable) ListNames(byte[] initramfs)
    {
        var names = new List<string>();
        int at = 0;
        long budget = MaxBytes;
        while (at < initramfs.Length)
        {
            // Archives are padded to 4-byte (often 512-byte) boundaries with zeros.
            while (at < initramfs.Length && initramfs[at] == 0)
            {
                at++;
            }

            if (at >= initramfs.Length)
            {
                break;
            }

            ReadOnlySpan<byte> rest = initramfs.AsSpan(at);
            if (rest.StartsWith("0707"u8))
            {
                using var plain = new MemoryStream(initramfs, at, initramfs.Length - at, writable: false);
                long consumed = ReadArchive(plain, names, ref budget);
                if (consumed == 0)
                {
                    break;
                }

                at += (int)consumed;
                continue;
            }

            Stream? decompressed = rest.StartsWith(new byte[] { 0x1F, 0x8B }) ? new GZipStream(new MemoryStream(initramfs, at, initramfs.Length - at, writable: false), CompressionMode.Decompress)
                : rest.StartsWith(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }) ? new ZstdSharp.DecompressionStream(new MemoryStream(initramfs, at, initramfs.Length - at, writable: false))
                : null;
            if (decompressed is null)
            {
                string kind = rest.StartsWith(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A }) ? "xz"
                    : rest.StartsWith(new byte[] { 0x02, 0x21, 0x4C, 0x18 }) || rest.StartsWith(new byte[] { 0x04, 0x22, 0x4D, 0x18 }) ? "lz4"
                    : rest.StartsWith("BZh"u8) ? "bzip2" : "unknown";
                return (names, kind);
            }

            using (decompressed)
            {
                // A compressed archive is the initramfs's last part (the kernel reads further, but nothing ships it so).
                try
                {
                    while (ReadArchive(decompressed, names, ref budget) > 0)
                    {
                    }
                }
                catch (Exception e) when (e is not InvalidDataException)
                {
                    // zstd's decoder throws its own exception on corrupt input: one kind of refusal for the caller.
                    throw new InvalidDataException($"the initramfs's compressed archive is corrupt ({e.Message}).", e);
                }
            }

            break;
        }

        return (names, null);
    }

    /// <summary>Reads one archive up to its trailer; returns the bytes it took (0 when the stream was at its end).</summary>
    private static long ReadArchive(Stream input, List<string> names, ref long budget)
    {
        var header = new byte[HeaderLength];
        long consumed = 0;
        bool any = false;
        while (true)
        {
            // Zero words before a header are padding between archives.
            int got;
            while ((got = input.ReadAtLeast(header.AsMemory(0, 4).Span, 4, throwOnEndOfStream: false)) == 4 && BitConverter.ToUInt32(header, 0) == 0)
            {
                consumed += 4;
            }

            if (got == 0)
            {
                return !any ? 0 : throw new InvalidDataException("the initramfs ends inside a cpio archive.");
            }

            got += input.ReadAtLeast(header.AsSpan(4), HeaderLength - 4, throwOnEndOfStream: false);
            if (got < HeaderLength || (!header.AsSpan(0, 6).SequenceEqual("070701"u8) && !header.AsSpan(0, 6).SequenceEqual("070702"u8)))
            {
                throw new InvalidDataException($"the initramfs has a cpio header that is not newc at byte {consumed}.");
            }

            any = true;
            long fileSize = Hex(header, 54);
            int nameSize = (int)Hex(header, 94);
            if (nameSize is < 1 or > 4096 || fileSize < 0 || fileSize > budget)
            {
                throw new InvalidDataException($"a cpio entry claims a {nameSize}-byte name and {fileSize} bytes of data.");
            }

            var name = new byte[nameSize];
            input.ReadExactly(name);
            consumed += HeaderLength + nameSize;
            Skip(input, Pad4(HeaderLength + nameSize));
            consumed += Pad4(HeaderLength + nameSize);
            string text = Encoding.UTF8.GetString(name, 0, nameSize - 1);
            if (text == "TRAILER!!!")
            {
                return consumed;
            }

            if (names.Count >= MaxEntries)
            {
                throw new InvalidDataException($"the initramfs holds more than {MaxEntries} entries.");
            }

            names.Add(text.TrimStart('.', '/'));
            budget -= fileSize;
            Skip(input, fileSize + Pad4(fileSize));
            consumed += fileSize + Pad4(fileSize);
        }
    }

    private static int Pad4(long length) => (int)((4 - (length % 4)) % 4);

    private static void Skip(Stream input, long count)
    {
        var buffer = new byte[Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            int got = input.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (got == 0)
            {
                throw new InvalidDataException("the initramfs ends inside a cpio entry.");
            }

            count -= got;
        }
    }

    private static long Hex(byte[] header, int offset)
    {
        long value = 0;
        for (int i = offset; i < offset + 8; i++)
        {
            int digit = header[i] switch
            {
                >= (byte)'0' and <= (byte)'9' => header[i] - '0',
                >= (byte)'a' and <= (byte)'f' => header[i] - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => header[i] - 'A' + 10,
                _ => throw new InvalidDataException("a cpio header field is not hexadecimal."),
            };
            value = (value << 4) | (uint)digit;
        }

        return value;
    }
}
