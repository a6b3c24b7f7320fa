using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks;

/// <summary>
/// The FAT boot sector and BIOS parameter block. The FAT type follows Microsoft's rule (FAT specification 1.03):
/// fewer than 4085 clusters is FAT12, fewer than 65525 is FAT16, anything else FAT32.
/// </summary>
internal sealed class FatBootSector
{
    public const int Size = 512;
    public const int Fat12MaxClusters = 4084;
    public const int Fat16MaxClusters = 65524;
    public const byte ExtendedBootSignature = 0x29;
    public const string NoName = "NO NAME";

    private const int BytesPerSectorOffset = 11;
    private const int SectorsPerClusterOffset = 13;
    private const int ReservedSectorsOffset = 14;
    private const int FatCountOffset = 16;
    private const int RootEntryCountOffset = 17;
    private const int TotalSectors16Offset = 19;
    private const int MediaOffset = 21;
    private const int FatSize16Offset = 22;
    private const int TotalSectors32Offset = 32;
    private const int FatSize32Offset = 36;
    private const int RootClusterOffset = 44;
    private const int Fat16BootSignatureOffset = 38;
    private const int Fat32BootSignatureOffset = 66;
    private const int BootSignatureOffset = 510;
    private const int LabelSize = 11;
    private const int DirectoryEntrySize = 32;

    private static readonly byte[] ExFatOemId = Encoding.ASCII.GetBytes("EXFAT   ");

    public required int BytesPerSector { get; init; }

    public required int SectorsPerCluster { get; init; }

    public required int ReservedSectors { get; init; }

    public required int FatCount { get; init; }

    public required int RootEntryCount { get; init; }

    public required long TotalSectors { get; init; }

    /// <summary>Sectors per FAT.</summary>
    public required long FatSize { get; init; }

    /// <summary>First cluster of the root directory (FAT32 only).</summary>
    public uint RootCluster { get; init; }

    /// <summary>12, 16 or 32.</summary>
    public required int FatBits { get; init; }

    public required long ClusterCount { get; init; }

    /// <summary>Volume serial number as blkid prints it (<c>XXXX-XXXX</c>), or null without an extended boot signature.</summary>
    public string? VolumeId { get; init; }

    /// <summary>The label in the boot sector, unless it is "NO NAME".</summary>
    public string? BootLabel { get; init; }

    public int ClusterSize => BytesPerSector * SectorsPerCluster;

    public long RootDirectorySectors => ((RootEntryCount * (long)DirectoryEntrySize) + BytesPerSector - 1) / BytesPerSector;

    public long FirstFatSector => ReservedSectors;

    public long FirstDataSector => ReservedSectors + (FatCount * FatSize) + RootDirectorySectors;

    /// <summary>Parses a FAT boot sector; null when the sector does not look like one (no 0x55AA, no jump, implausible BPB, NTFS or exFAT).</summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> when the BPB is plausible but its areas do not fit.</exception>
    public static FatBootSector? ReadFrom(ReadOnlySpan<byte> sector)
    {
        if (sector.Length < Size
            || BinaryPrimitives.ReadUInt16LittleEndian(sector[BootSignatureOffset..]) != MasterBootRecord.BootSignature
            || !(sector[0] == 0xE9 || (sector[0] == 0xEB && sector[2] == 0x90))
            || NtfsBootSector.HasOemId(sector)
            || sector.Slice(3, 8).SequenceEqual(ExFatOemId))
        {
            return null;
        }

        int bytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(sector[BytesPerSectorOffset..]);
        int sectorsPerCluster = sector[SectorsPerClusterOffset];
        int reserved = BinaryPrimitives.ReadUInt16LittleEndian(sector[ReservedSectorsOffset..]);
        int fatCount = sector[FatCountOffset];
        int rootEntries = BinaryPrimitives.ReadUInt16LittleEndian(sector[RootEntryCountOffset..]);
        long totalSectors = BinaryPrimitives.ReadUInt16LittleEndian(sector[TotalSectors16Offset..]);
        if (totalSectors == 0)
        {
            totalSectors = BinaryPrimitives.ReadUInt32LittleEndian(sector[TotalSectors32Offset..]);
        }

        byte media = sector[MediaOffset];
        long fatSize16 = BinaryPrimitives.ReadUInt16LittleEndian(sector[FatSize16Offset..]);
        bool fat32Layout = fatSize16 == 0;
        long fatSize = fat32Layout ? BinaryPrimitives.ReadUInt32LittleEndian(sector[FatSize32Offset..]) : fatSize16;
        if (bytesPerSector is not (512 or 1024 or 2048 or 4096)
            || sectorsPerCluster is 0 or > 128 || (sectorsPerCluster & (sectorsPerCluster - 1)) != 0
            || reserved == 0 || fatCount is 0 or > 4
            || !(media == 0xF0 || media >= 0xF8)
            || totalSectors == 0 || fatSize == 0)
        {
            return null;
        }

        long rootDirSectors = ((rootEntries * (long)DirectoryEntrySize) + bytesPerSector - 1) / bytesPerSector;
        long firstData = reserved + (fatCount * fatSize) + rootDirSectors;
        if (firstData >= totalSectors)
        {
            throw Corrupt($"the reserved, FAT and root directory areas ({firstData} sectors) fill the whole volume ({totalSectors} sectors).");
        }

        long clusters = (totalSectors - firstData) / sectorsPerCluster;
        int fatBits = clusters <= Fat12MaxClusters ? 12 : clusters <= Fat16MaxClusters ? 16 : 32;
        if (fatBits == 32 && (!fat32Layout || rootEntries != 0))
        {
            throw Corrupt($"{clusters} clusters make FAT32, but the BPB is a FAT12/16 one.");
        }

        long fatBytesNeeded = fatBits switch
        {
            12 => (((clusters + 2) * 3) + 1) / 2,
            16 => (clusters + 2) * 2,
            _ => (clusters + 2) * 4,
        };
        if (fatBytesNeeded > fatSize * bytesPerSector)
        {
            throw Corrupt($"a FAT of {fatSize} sectors cannot hold {clusters} clusters.");
        }

        int sigOffset = fat32Layout ? Fat32BootSignatureOffset : Fat16BootSignatureOffset;
        string? volumeId = null;
        string? label = null;
        if (sector[sigOffset] == ExtendedBootSignature)
        {
            uint serial = BinaryPrimitives.ReadUInt32LittleEndian(sector[(sigOffset + 1)..]);
            volumeId = $"{serial >> 16:X4}-{serial & 0xFFFF:X4}";
            label = DecodeLabel(sector.Slice(sigOffset + 5, LabelSize));
        }

        return new FatBootSector
        {
            BytesPerSector = bytesPerSector,
            SectorsPerCluster = sectorsPerCluster,
            ReservedSectors = reserved,
            FatCount = fatCount,
            RootEntryCount = rootEntries,
            TotalSectors = totalSectors,
            FatSize = fatSize,
            RootCluster = fat32Layout ? BinaryPrimitives.ReadUInt32LittleEndian(sector[RootClusterOffset..]) : 0,
            FatBits = fatBits,
            ClusterCount = clusters,
            VolumeId = volumeId,
            BootLabel = label,
        };
    }

    /// <summary>An 11-byte 8.3 label with trailing spaces removed; null when empty or "NO NAME".</summary>
    public static string? DecodeLabel(ReadOnlySpan<byte> raw)
    {
        string text = Encoding.Latin1.GetString(raw).TrimEnd(' ', '\0');
        return text.Length == 0 || text == NoName ? null : text;
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "FAT boot sector: " + message);
}
