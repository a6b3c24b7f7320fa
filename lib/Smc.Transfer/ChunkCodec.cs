using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ZstdSharp;

namespace Smc.Transfer;

/// <summary>
/// Seals a chunk of a source disk into a frame and opens it again (docs/wire-format.md, "Frame"): an optional zstd
/// compression, then AES-256-GCM with a random 96-bit nonce, bound by the associated data to one job, round, disk,
/// offset and length. Thread-safe; each thread keeps its own zstd contexts.
/// </summary>
public static class ChunkCodec
{
    /// <summary>Size of the fixed frame header; the payload follows it.</summary>
    public const int HeaderSize = PayloadOffset;

    /// <summary>The longest plaintext a frame carries (16 MiB); the staging chunk size is 1 MiB.</summary>
    public const int MaxPlainLength = 16 << 20;

    /// <summary>The highest zstd level <see cref="Seal"/> accepts; 0 means "never compress".</summary>
    public const int MaxCompressLevel = 22;

    /// <summary>Length of the AES-256 data key.</summary>
    public const int DataKeyLength = 32;

    internal const byte FrameVersion = 1;
    internal const byte CompressionNone = 0;
    internal const byte CompressionZstd = 1;
    internal const byte CipherAes256Gcm = 1;
    internal const int NonceLength = 12;
    internal const int TagLength = 16;

    // Field offsets of the header (little-endian integers).
    internal const int MagicOffset = 0;
    internal const int VersionOffset = 4;
    internal const int CompressionOffset = 5;
    internal const int CipherOffset = 6;
    internal const int ReservedOffset = 7;
    internal const int DiskOffset = 8;
    internal const int RoundOffset = 10;
    internal const int OffsetOffset = 14;
    internal const int PlainLengthOffset = 22;
    internal const int PayloadLengthOffset = 26;
    internal const int NonceOffset = 30;
    internal const int TagOffset = NonceOffset + NonceLength;
    internal const int PayloadOffset = TagOffset + TagLength;

    /// <summary>The header bytes that are authenticated as associated data (everything before the nonce).</summary>
    internal const int AuthenticatedHeaderLength = NonceOffset;

    private const int MaxStackAad = 256;

    internal static ReadOnlySpan<byte> Magic => "SMCK"u8;

    [ThreadStatic]
    private static Compressor? t_compressor;

    [ThreadStatic]
    private static Decompressor? t_decompressor;

    /// <summary>
    /// The largest frame a plaintext of <paramref name="plainLength"/> bytes seals into: a payload is never longer
    /// than its plaintext, because compressed data that is not smaller is stored as it is.
    /// </summary>
    public static int MaxFrameLength(int plainLength)
    {
        CheckPlainLength(plainLength, nameof(plainLength));
        return HeaderSize + plainLength;
    }

    /// <summary>
    /// Seals <paramref name="plain"/> for <paramref name="address"/> into <paramref name="frame"/> and returns the
    /// frame's length. The data is zstd-compressed at <paramref name="compressLevel"/> (1–22) when that makes it
    /// smaller, otherwise stored as it is; level 0 never compresses.
    /// </summary>
    /// <param name="plain">The chunk; its length must equal <see cref="ChunkAddress.Length"/>.</param>
    /// <param name="address">Where the chunk belongs.</param>
    /// <param name="dataKey">The round's 32-byte AES-256 data key.</param>
    /// <param name="compressLevel">0 (never compress) or a zstd level from 1 to 22.</param>
    /// <param name="frame">At least <see cref="MaxFrameLength"/> bytes.</param>
    /// <param name="zstd">Which zstd compresses (the frame is standard zstd either way; <see cref="SystemZstd.Preferred"/>).</param>
    public static int Seal(ReadOnlySpan<byte> plain, ChunkAddress address, ReadOnlySpan<byte> dataKey, int compressLevel, Span<byte> frame, ZstdLibrary zstd = ZstdLibrary.Managed)
    {
        Span<byte> nonce = stackalloc byte[NonceLength];
        RandomNumberGenerator.Fill(nonce);
        return Seal(plain, address, dataKey, compressLevel, nonce, frame, zstd);
    }

    /// <summary>Seal with a given nonce: for golden files only. A nonce must never repeat under one data key.</summary>
    internal static int Seal(
        ReadOnlySpan<byte> plain,
        ChunkAddress address,
        ReadOnlySpan<byte> dataKey,
        int compressLevel,
        ReadOnlySpan<byte> nonce,
        Span<byte> frame,
        ZstdLibrary zstd = ZstdLibrary.Managed)
    {
        CheckAddress(address, nameof(address));
        CheckKey(dataKey, nameof(dataKey));
        if (plain.Length != address.Length)
        {
            throw new ArgumentException($"The plaintext is {plain.Length} bytes but the address says {address.Length}.", nameof(plain));
        }

        if (compressLevel is < 0 or > MaxCompressLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(compressLevel), compressLevel, $"A compression level is 0 (none) to {MaxCompressLevel}.");
        }

        if (nonce.Length != NonceLength)
        {
            throw new ArgumentException($"A nonce is {NonceLength} bytes.", nameof(nonce));
        }

        if (frame.Length < HeaderSize + plain.Length)
        {
            throw new ArgumentException($"The frame buffer needs {HeaderSize + plain.Length} bytes (MaxFrameLength).", nameof(frame));
        }

        byte[]? scratch = null;
        int scratchUsed = 0;
        try
        {
            ReadOnlySpan<byte> payload = plain;
            byte compression = CompressionNone;
            if (compressLevel > 0)
            {
                if (zstd == ZstdLibrary.System)
                {
                    scratch = ArrayPool<byte>.Shared.Rent(SystemZstd.CompressBound(plain.Length));
                    scratchUsed = SystemZstd.Compress(plain, scratch, compressLevel);
                }
                else
                {
                    scratch = ArrayPool<byte>.Shared.Rent(Compressor.GetCompressBound(plain.Length));
                    Compressor compressor = t_compressor ??= new Compressor(compressLevel);
                    compressor.Level = compressLevel;
                    scratchUsed = compressor.Wrap(plain, scratch);
                }

                if (scratchUsed < plain.Length)
                {
                    payload = scratch.AsSpan(0, scratchUsed);
                    compression = CompressionZstd;
                }
            }

            Span<byte> header = frame[..HeaderSize];
            Magic.CopyTo(header);
            header[VersionOffset] = FrameVersion;
            header[CompressionOffset] = compression;
            header[CipherOffset] = CipherAes256Gcm;
            header[ReservedOffset] = 0;
            BinaryPrimitives.WriteUInt16LittleEndian(header[DiskOffset..], (ushort)address.Disk);
            BinaryPrimitives.WriteUInt32LittleEndian(header[RoundOffset..], (uint)address.Round);
            BinaryPrimitives.WriteUInt64LittleEndian(header[OffsetOffset..], (ulong)address.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(header[PlainLengthOffset..], (uint)plain.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header[PayloadLengthOffset..], (uint)payload.Length);
            nonce.CopyTo(header[NonceOffset..]);

            byte[]? rentedAad = null;
            try
            {
                ReadOnlySpan<byte> aad = BuildAad(header, address.JobId, stackalloc byte[MaxStackAad], ref rentedAad);
                using var aes = new AesGcm(dataKey, TagLength);
                aes.Encrypt(
                    header.Slice(NonceOffset, NonceLength),
                    payload,
                    frame.Slice(PayloadOffset, payload.Length),
                    header.Slice(TagOffset, TagLength),
                    aad);
            }
            finally
            {
                if (rentedAad is not null)
                {
                    ArrayPool<byte>.Shared.Return(rentedAad);
                }
            }

            return HeaderSize + payload.Length;
        }
        finally
        {
            if (scratch is not null)
            {
                scratch.AsSpan(0, scratchUsed).Clear();
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>
    /// Opens a frame sealed for <paramref name="expected"/> into <paramref name="plain"/> and returns the plaintext
    /// length (<see cref="ChunkAddress.Length"/>). Checks, in this order: the frame's header (magic, version,
    /// algorithm ids, lengths), that its disk, round, offset and length are the expected ones, the GCM tag over the
    /// header and the job id, and the decompressed length.
    /// </summary>
    /// <param name="frame">Exactly one frame, as stored.</param>
    /// <param name="expected">Where the chunk must belong (from the manifest).</param>
    /// <param name="dataKey">The round's 32-byte data key.</param>
    /// <param name="plain">At least <see cref="ChunkAddress.Length"/> bytes; zeroed when the frame fails a check.</param>
    /// <exception cref="ChunkIntegrityException">The frame fails a check (<see cref="ChunkErrorCodes"/>).</exception>
    public static int Open(ReadOnlySpan<byte> frame, ChunkAddress expected, ReadOnlySpan<byte> dataKey, Span<byte> plain)
    {
        CheckAddress(expected, nameof(expected));
        CheckKey(dataKey, nameof(dataKey));
        if (plain.Length < expected.Length)
        {
            throw new ArgumentException($"The plaintext buffer needs {expected.Length} bytes.", nameof(plain));
        }

        Span<byte> output = plain[..expected.Length];
        try
        {
            return OpenCore(frame, expected, dataKey, output);
        }
        catch (ChunkIntegrityException)
        {
            output.Clear();
            throw;
        }
    }

    private static int OpenCore(ReadOnlySpan<byte> frame, ChunkAddress expected, ReadOnlySpan<byte> dataKey, Span<byte> output)
    {
        if (frame.Length < HeaderSize)
        {
            throw Corrupt($"The frame is {frame.Length} bytes, shorter than its {HeaderSize}-byte header.");
        }

        ReadOnlySpan<byte> header = frame[..HeaderSize];
        if (!header[..Magic.Length].SequenceEqual(Magic))
        {
            throw Corrupt("The frame does not start with the magic 'SMCK'.");
        }

        if (header[VersionOffset] != FrameVersion)
        {
            throw new ChunkIntegrityException(
                ChunkErrorCodes.ChunkUnsupported,
                $"Frame version {header[VersionOffset]} is not supported; this reader knows version {FrameVersion}.");
        }

        byte compression = header[CompressionOffset];
        if (compression is not (CompressionNone or CompressionZstd))
        {
            throw new ChunkIntegrityException(ChunkErrorCodes.ChunkUnsupported, $"Compression id {compression} is not supported.");
        }

        if (header[CipherOffset] != CipherAes256Gcm)
        {
            throw new ChunkIntegrityException(ChunkErrorCodes.ChunkUnsupported, $"Cipher id {header[CipherOffset]} is not supported.");
        }

        if (header[ReservedOffset] != 0)
        {
            throw Corrupt($"The reserved header byte is {header[ReservedOffset]}, not 0.");
        }

        int disk = BinaryPrimitives.ReadUInt16LittleEndian(header[DiskOffset..]);
        uint round = BinaryPrimitives.ReadUInt32LittleEndian(header[RoundOffset..]);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(header[OffsetOffset..]);
        uint plainLength = BinaryPrimitives.ReadUInt32LittleEndian(header[PlainLengthOffset..]);
        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(header[PayloadLengthOffset..]);
        if (disk != expected.Disk || round != (uint)expected.Round || offset != (ulong)expected.Offset || plainLength != (uint)expected.Length)
        {
            throw new ChunkIntegrityException(
                ChunkErrorCodes.ChunkMismatch,
                $"The frame holds disk {disk}, round {round}, offset {offset}, length {plainLength}; expected disk {expected.Disk}, " +
                $"round {expected.Round}, offset {expected.Offset}, length {expected.Length}.");
        }

        if (payloadLength != (uint)(frame.Length - HeaderSize))
        {
            throw Corrupt($"The header states a {payloadLength}-byte payload but {frame.Length - HeaderSize} bytes follow it.");
        }

        int length = expected.Length;
        int payloadSize = (int)payloadLength;
        if (compression == CompressionNone ? payloadSize != length : payloadSize == 0 || payloadSize >= length)
        {
            throw Corrupt($"A payload of {payloadSize} bytes cannot hold {length} bytes with compression id {compression}.");
        }

        ReadOnlySpan<byte> payload = frame.Slice(PayloadOffset, payloadSize);
        byte[]? rentedAad = null;
        byte[]? scratch = null;
        try
        {
            ReadOnlySpan<byte> aad = BuildAad(header, expected.JobId, stackalloc byte[MaxStackAad], ref rentedAad);
            using var aes = new AesGcm(dataKey, TagLength);
            Span<byte> decrypted = output;
            if (compression == CompressionZstd)
            {
                scratch = ArrayPool<byte>.Shared.Rent(payloadSize);
                decrypted = scratch.AsSpan(0, payloadSize);
            }

            try
            {
                aes.Decrypt(header.Slice(NonceOffset, NonceLength), payload, header.Slice(TagOffset, TagLength), decrypted, aad);
            }
            catch (AuthenticationTagMismatchException ex)
            {
                throw new ChunkIntegrityException(
                    ChunkErrorCodes.ChunkTampered,
                    $"The frame for {expected.JobId} round {expected.Round} disk {expected.Disk} offset {expected.Offset} failed " +
                    "authentication: it was altered, belongs to another job, or the data key is wrong.",
                    ex);
            }

            if (compression == CompressionZstd)
            {
                int written;
                try
                {
                    written = SystemZstd.IsAvailable
                        ? SystemZstd.Decompress(decrypted, output[..length])
                        : (t_decompressor ??= new Decompressor()).Unwrap(decrypted, output);
                }
                catch (Exception ex) when (ex is ZstdException or InvalidDataException)
                {
                    throw Corrupt($"The payload does not decompress to {length} bytes: {ex.Message}", ex);
                }

                if (written != length)
                {
                    throw Corrupt($"The payload decompresses to {written} bytes, not {length}.");
                }
            }

            return length;
        }
        finally
        {
            if (rentedAad is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedAad);
            }

            if (scratch is not null)
            {
                scratch.AsSpan(0, payloadSize).Clear();
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>Associated data: the header up to the nonce, then the UTF-8 job id.</summary>
    private static ReadOnlySpan<byte> BuildAad(ReadOnlySpan<byte> header, string jobId, Span<byte> stack, ref byte[]? rented)
    {
        int length = AuthenticatedHeaderLength + Encoding.UTF8.GetByteCount(jobId);
        Span<byte> aad = length <= stack.Length ? stack[..length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        header[..AuthenticatedHeaderLength].CopyTo(aad);
        Encoding.UTF8.GetBytes(jobId, aad[AuthenticatedHeaderLength..]);
        return aad;
    }

    private static ChunkIntegrityException Corrupt(string message, Exception? inner = null) =>
        new(ChunkErrorCodes.ChunkCorrupt, message, inner);

    private static void CheckPlainLength(int length, string paramName)
    {
        if (length is < 1 or > MaxPlainLength)
        {
            throw new ArgumentOutOfRangeException(paramName, length, $"A chunk is 1 to {MaxPlainLength} bytes.");
        }
    }

    private static void CheckKey(ReadOnlySpan<byte> dataKey, string paramName)
    {
        if (dataKey.Length != DataKeyLength)
        {
            throw new ArgumentException($"A data key is {DataKeyLength} bytes, not {dataKey.Length}.", paramName);
        }
    }

    private static void CheckAddress(ChunkAddress address, string paramName)
    {
        if (string.IsNullOrEmpty(address.JobId))
        {
            throw new ArgumentException("The address has no job id.", paramName);
        }

        if (address.Round < 0 || address.Disk is < 0 or > ushort.MaxValue || address.Offset < 0)
        {
            throw new ArgumentOutOfRangeException(
                paramName,
                address,
                $"Round and offset must be non-negative and the disk 0 to {ushort.MaxValue}.");
        }

        CheckPlainLength(address.Length, paramName);
    }
}
