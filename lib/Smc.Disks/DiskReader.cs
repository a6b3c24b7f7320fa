using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Smc.Disks;

/// <summary>
/// Read-only random access to a whole disk: a block device, an image file, or any seekable stream.
/// Every read is validated against <see cref="Length"/> and either fills the buffer completely or throws
/// <see cref="DiskFormatException"/> (<see cref="DiskErrorCodes.Truncated"/> or <see cref="DiskErrorCodes.Io"/>).
/// </summary>
public sealed class DiskReader : IDisposable
{
    /// <summary>The logical sector size assumed for image files and streams.</summary>
    public const int DefaultSectorSize = 512;

    private const string SysBlock = "/sys/class/block";

    private readonly SafeFileHandle? _handle;
    private readonly Stream? _stream;
    private readonly bool _leaveOpen;
    private bool _disposed;

    /// <summary>Reads from a readable, seekable stream (e.g. a <see cref="MemoryStream"/> over an image held in memory).</summary>
    /// <param name="stream">The disk contents; its length is the disk size.</param>
    /// <param name="sectorSize">Logical sector size: a power of two from 512 to 4096.</param>
    /// <param name="leaveOpen">When false, disposing the reader disposes the stream.</param>
    public DiskReader(Stream stream, int sectorSize = DefaultSectorSize, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }

        if (!IsValidSectorSize(sectorSize))
        {
            throw new ArgumentOutOfRangeException(nameof(sectorSize), sectorSize, "The sector size must be a power of two from 512 to 4096.");
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        Length = stream.Length;
        SectorSize = sectorSize;
    }

    private DiskReader(SafeFileHandle handle, string path, string? blockDevicePath, long length, int sectorSize)
    {
        _handle = handle;
        Path = path;
        BlockDevicePath = blockDevicePath;
        IsBlockDevice = blockDevicePath is not null;
        Length = length;
        SectorSize = sectorSize;
    }

    /// <summary>The path the reader was opened from; null for a stream.</summary>
    public string? Path { get; }

    /// <summary>The disk size in bytes.</summary>
    public long Length { get; }

    /// <summary>The logical sector size in bytes (the unit of MBR and GPT LBAs).</summary>
    public int SectorSize { get; }

    /// <summary>True when <see cref="Path"/> is a block device (partition names are then <c>/dev/sda1</c>-style).</summary>
    public bool IsBlockDevice { get; }

    /// <summary>For a block device, its real <c>/dev</c> path with symbolic links (e.g. <c>/dev/disk/by-id/…</c>) resolved.</summary>
    internal string? BlockDevicePath { get; }

    /// <summary>Number of whole logical sectors.</summary>
    public long SectorCount => Length / SectorSize;

    /// <summary>
    /// Opens a block device or an image file read-only (sharing read and write with others).
    /// The size of a block device comes from <c>/sys/class/block/NAME/size</c> when the file length is 0.
    /// </summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.Io"/> when the path cannot be opened.</exception>
    public static DiskReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new DiskFormatException(DiskErrorCodes.Io, $"Cannot open '{path}': {e.Message}", e);
        }

        try
        {
            long length = RandomAccess.GetLength(handle);
            string? blockPath = BlockDevicePathOf(path);
            string? blockName = blockPath is null ? null : System.IO.Path.GetFileName(blockPath);
            int sectorSize = DefaultSectorSize;
            if (blockName is not null)
            {
                if (length == 0)
                {
                    length = ReadSysfsSize(blockName);
                }

                sectorSize = ReadSysfsSectorSize(blockName);
            }

            return new DiskReader(handle, path, blockPath, length, sectorSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            handle.Dispose();
            throw new DiskFormatException(DiskErrorCodes.Io, $"Cannot determine the size of '{path}': {e.Message}", e);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Fills <paramref name="buffer"/> with the bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="DiskFormatException">
    /// <see cref="DiskErrorCodes.Truncated"/> when the range lies (partly) beyond <see cref="Length"/>;
    /// <see cref="DiskErrorCodes.Io"/> when the read fails.
    /// </exception>
    public void ReadAt(long offset, Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || offset > Length || buffer.Length > Length - offset)
        {
            throw new DiskFormatException(
                DiskErrorCodes.Truncated,
                $"Cannot read {buffer.Length} bytes at offset {offset}: the disk has {Length} bytes.");
        }

        if (buffer.IsEmpty)
        {
            return;
        }

        try
        {
            if (_handle is not null)
            {
                int done = 0;
                while (done < buffer.Length)
                {
                    int n = RandomAccess.Read(_handle, buffer[done..], offset + done);
                    if (n <= 0)
                    {
                        throw new DiskFormatException(
                            DiskErrorCodes.Truncated,
                            $"Unexpected end of data at offset {offset + done} (the disk shrank while being read?).");
                    }

                    done += n;
                }
            }
            else
            {
                _stream!.Position = offset;
                _stream.ReadExactly(buffer);
            }
        }
        catch (EndOfStreamException e)
        {
            throw new DiskFormatException(DiskErrorCodes.Truncated, $"Unexpected end of data reading {buffer.Length} bytes at offset {offset}.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new DiskFormatException(DiskErrorCodes.Io, $"Read of {buffer.Length} bytes at offset {offset} failed: {e.Message}", e);
        }
    }

    /// <summary>Reads <paramref name="count"/> bytes at <paramref name="offset"/> into a new array.</summary>
    internal byte[] ReadBytes(long offset, int count)
    {
        if (count < 0 || offset < 0 || offset > Length || count > Length - offset)
        {
            throw new DiskFormatException(
                DiskErrorCodes.Truncated,
                $"Cannot read {count} bytes at offset {offset}: the disk has {Length} bytes.");
        }

        var buffer = new byte[count];
        ReadAt(offset, buffer);
        return buffer;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _handle?.Dispose();
        if (_stream is not null && !_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private static bool IsValidSectorSize(int size) => size is >= 512 and <= 4096 && (size & (size - 1)) == 0;

    /// <summary>The real path (<c>/dev/sda</c>, <c>/dev/nvme0n1p1</c>) when <paramref name="path"/> is a block device, else null.</summary>
    private static string? BlockDevicePathOf(string path)
    {
        try
        {
            string full = System.IO.Path.GetFullPath(path);
            string real = File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
            if (!real.StartsWith("/dev/", StringComparison.Ordinal))
            {
                return null;
            }

            string name = System.IO.Path.GetFileName(real);
            return name.Length > 0 && Directory.Exists($"{SysBlock}/{name}") ? real : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private static long ReadSysfsSize(string name)
    {
        // Always in 512-byte units, whatever the logical sector size.
        string text = File.ReadAllText($"{SysBlock}/{name}/size").Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long sectors) && sectors >= 0 && sectors <= long.MaxValue / 512
            ? sectors * 512
            : throw new IOException($"Unexpected content '{text}' in {SysBlock}/{name}/size.");
    }

    private static int ReadSysfsSectorSize(string name)
    {
        // Whole disks have queue/; a partition's directory sits inside its disk's directory.
        foreach (string candidate in new[] { $"{SysBlock}/{name}/queue/logical_block_size", $"{SysBlock}/{name}/../queue/logical_block_size" })
        {
            try
            {
                if (File.Exists(candidate)
                    && int.TryParse(File.ReadAllText(candidate).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int size)
                    && IsValidSectorSize(size))
                {
                    return size;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Fall through to the default.
            }
        }

        return DefaultSectorSize;
    }
}
