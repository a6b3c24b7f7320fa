using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks;

/// <summary>An entry of a FAT directory: its long name (or 8.3 name), whether it is a directory, its first cluster and size.</summary>
public sealed record FatEntry(string Name, bool IsDirectory, uint FirstCluster, uint Size);

/// <summary>
/// A read-only FAT12/16/32 file system inside an image, read from its bytes: directories (8.3 and long names) and files,
/// by following cluster chains in the first FAT. What an EFI system partition holds is read this way (the boot loaders
/// under <c>EFI/</c>). Everything is bounded by what the volume itself can hold: a chain longer than the volume's
/// clusters (a loop), a cluster outside it, a directory of more than 65,536 entries or a file over the caller's limit
/// is a <see cref="DiskFormatException"/> (<see cref="DiskErrorCodes.CorruptFileSystem"/>), never a hang or a huge buffer.
/// </summary>
public sealed class FatFileSystem
{
    /// <summary>The FAT specification's limit on a directory's entries.</summary>
    private const int MaxDirectoryEntries = 65536;

    private const int EntrySize = 32;
    private const byte AttributeVolumeId = 0x08;
    private const byte AttributeDirectory = 0x10;
    private const byte AttributeLongName = 0x0F;
    private const byte DeletedEntry = 0xE5;

    private readonly DiskReader _reader;
    private readonly long _offset;

    private FatFileSystem(DiskReader reader, long offset, FatBootSector boot)
    {
        (_reader, _offset, Boot) = (reader, offset, boot);
    }

    internal FatBootSector Boot { get; }

    /// <summary>12, 16 or 32.</summary>
    public int FatBits => Boot.FatBits;

    /// <exception cref="DiskFormatException">Not a FAT file system, or one that does not fit <paramref name="size"/>.</exception>
    public static FatFileSystem Open(DiskReader reader, long offset, long size)
    {
        var sector = new byte[FatBootSector.Size];
        reader.ReadAt(offset, sector);
        FatBootSector boot = FatBootSector.ReadFrom(sector) ?? throw Corrupt("not a FAT file system.");
        if (boot.TotalSectors > size / boot.BytesPerSector)
        {
            throw Corrupt($"{boot.TotalSectors} sectors of {boot.BytesPerSector} bytes do not fit the {size}-byte partition.");
        }

        return new FatFileSystem(reader, offset, boot);
    }

    /// <summary>The entries of a directory (null: the root), without <c>.</c>, <c>..</c>, deleted entries and the volume label.</summary>
    public IReadOnlyList<FatEntry> ReadDirectory(FatEntry? directory)
    {
        if (directory is { IsDirectory: false })
        {
            throw Corrupt($"{directory.Name} is not a directory.");
        }

        byte[] raw = directory is null && Boot.FatBits != 32
            ? ReadFixedRoot()
            : ReadChain(directory?.FirstCluster ?? Boot.RootCluster, (long)MaxDirectoryEntries * EntrySize);
        var entries = new List<FatEntry>();
        var longName = new SortedDictionary<int, string>();
        for (int at = 0; at + EntrySize <= raw.Length; at += EntrySize)
        {
            ReadOnlySpan<byte> e = raw.AsSpan(at, EntrySize);
            if (e[0] == 0)
            {
                break; // the end of the directory
            }

            if (e[0] == DeletedEntry)
            {
                longName.Clear();
                continue;
            }

            byte attributes = e[11];
            if ((attributes & AttributeLongName) == AttributeLongName)
            {
                // Each long-name entry holds 13 UCS-2 characters, numbered from 1 at the name's start.
                int order = e[0] & 0x1F;
                string part = Encoding.Unicode.GetString([.. e.Slice(1, 10), .. e.Slice(14, 12), .. e.Slice(28, 4)]);
                int end = part.IndexOf('\0', StringComparison.Ordinal);
                longName[order] = end >= 0 ? part[..end] : part;
                continue;
            }

            if ((attributes & AttributeVolumeId) != 0)
            {
                longName.Clear();
                continue;
            }

            string name = longName.Count > 0 ? string.Concat(longName.Values) : ShortName(e);
            longName.Clear();
            if (name is "." or "..")
            {
                continue;
            }

            uint cluster = (uint)(BinaryPrimitives.ReadUInt16LittleEndian(e[20..]) << 16) | BinaryPrimitives.ReadUInt16LittleEndian(e[26..]);
            if (Boot.FatBits != 32)
            {
                cluster &= 0xFFFF;
            }

            entries.Add(new FatEntry(name, (attributes & AttributeDirectory) != 0, cluster, BinaryPrimitives.ReadUInt32LittleEndian(e[28..])));
        }

        return entries;
    }

    /// <summary>The entry at <paramref name="path"/> (names compared without regard to case, as FAT does); null when absent; the root is not an entry.</summary>
    public FatEntry? Lookup(string path)
    {
        FatEntry? current = null;
        foreach (string name in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (current is { IsDirectory: false })
            {
                return null;
            }

            current = ReadDirectory(current).FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    /// <summary>A file's bytes.</summary>
    /// <exception cref="DiskFormatException">The file is over <paramref name="maxBytes"/>, or its chain is shorter than its size.</exception>
    public byte[] ReadFile(FatEntry file, long maxBytes)
    {
        if (file.IsDirectory)
        {
            throw Corrupt($"{file.Name} is a directory.");
        }

        if (file.Size > maxBytes)
        {
            throw Corrupt($"{file.Name} holds {file.Size} bytes, more than the {maxBytes} read here.");
        }

        if (file.Size == 0)
        {
            return [];
        }

        byte[] data = ReadChain(file.FirstCluster, file.Size);
        return data.Length >= file.Size ? data[..(int)file.Size] : throw Corrupt($"{file.Name}: its cluster chain holds {data.Length} bytes, not its {file.Size}.");
    }

    /// <summary>The FAT12/16 root directory: a fixed area before the data clusters.</summary>
    private byte[] ReadFixedRoot()
    {
        var raw = new byte[Boot.RootEntryCount * EntrySize];
        _reader.ReadAt(_offset + ((Boot.FirstFatSector + (Boot.FatCount * Boot.FatSize)) * Boot.BytesPerSector), raw);
        return raw;
    }

    /// <summary>The clusters of a chain, at most <paramref name="maxBytes"/> (rounded up to a cluster).</summary>
    private byte[] ReadChain(uint first, long maxBytes)
    {
        var data = new MemoryStream();
        var cluster = new byte[Boot.ClusterSize];
        long steps = 0;
        for (uint c = first; !IsEnd(c); c = Next(c))
        {
            if (c < 2 || c >= Boot.ClusterCount + 2)
            {
                throw Corrupt($"cluster {c} is outside the volume's {Boot.ClusterCount} clusters.");
            }

            if (++steps > Boot.ClusterCount)
            {
                throw Corrupt($"a cluster chain from {first} loops.");
            }

            if (data.Length >= maxBytes)
            {
                break;
            }

            _reader.ReadAt(_offset + ((Boot.FirstDataSector + ((c - 2L) * Boot.SectorsPerCluster)) * Boot.BytesPerSector), cluster);
            data.Write(cluster);
        }

        return data.ToArray();
    }

    private bool IsEnd(uint cluster) => Boot.FatBits switch
    {
        12 => cluster >= 0xFF8,
        16 => cluster >= 0xFFF8,
        _ => cluster >= 0x0FFFFFF8,
    } || cluster == 0;

    /// <summary>The first FAT's entry for <paramref name="cluster"/>.</summary>
    private uint Next(uint cluster)
    {
        long fat = _offset + (Boot.FirstFatSector * Boot.BytesPerSector);
        Span<byte> b = stackalloc byte[4];
        switch (Boot.FatBits)
        {
            case 12:
                _reader.ReadAt(fat + cluster + (cluster / 2), b[..2]);
                int pair = BinaryPrimitives.ReadUInt16LittleEndian(b);
                return (uint)((cluster & 1) == 0 ? pair & 0xFFF : pair >> 4);
            case 16:
                _reader.ReadAt(fat + (cluster * 2L), b[..2]);
                return BinaryPrimitives.ReadUInt16LittleEndian(b);
            default:
                _reader.ReadAt(fat + (cluster * 4L), b);
                return BinaryPrimitives.ReadUInt32LittleEndian(b) & 0x0FFFFFFF;
        }
    }

    /// <summary>"BOOTX64 EFI" → "BOOTX64.EFI" (the case bits of NT's 8.3 lower-case flags applied).</summary>
    private static string ShortName(ReadOnlySpan<byte> e)
    {
        string name = Encoding.Latin1.GetString(e[..8]).TrimEnd(' ');
        string ext = Encoding.Latin1.GetString(e.Slice(8, 3)).TrimEnd(' ');
        if (name.Length > 0 && name[0] == '\x05')
        {
            name = "\xE5" + name[1..];
        }

        byte flags = e[12];
        name = (flags & 0x08) != 0 ? name.ToLowerInvariant() : name;
        ext = (flags & 0x10) != 0 ? ext.ToLowerInvariant() : ext;
        return ext.Length > 0 ? $"{name}.{ext}" : name;
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "FAT: " + message);
}
