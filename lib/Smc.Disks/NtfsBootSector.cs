using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks;

/// <summary>The NTFS boot sector (BIOS parameter block) at byte 0 of the volume.</summary>
internal sealed class NtfsBootSector
{
    public const int Size = 512;

    /// <summary>Largest NTFS cluster (2 MiB).</summary>
    public const int MaxClusterSize = 2 * 1024 * 1024;

    private const int OemIdOffset = 3;
    private const int BytesPerSectorOffset = 0x0B;
    private const int SectorsPerClusterOffset = 0x0D;
    private const int TotalSectorsOffset = 0x28;
    private const int MftLcnOffset = 0x30;
    private const int ClustersPerMftRecordOffset = 0x40;
    private const int SerialNumberOffset = 0x48;
    private const int BootSignatureOffset = 510;

    private static readonly byte[] OemId = Encoding.ASCII.GetBytes("NTFS    ");

    public required int BytesPerSector { get; init; }

    public required int ClusterSize { get; init; }

    public required long TotalSectors { get; init; }

    /// <summary>Clusters in the volume: total sectors / sectors per cluster.</summary>
    public required long TotalClusters { get; init; }

    public required long MftLcn { get; init; }

    public required int MftRecordSize { get; init; }

    public required ulong SerialNumber { get; init; }

    /// <summary>The serial number as 16 upper-case hex digits, as blkid prints it.</summary>
    public string SerialNumberText => SerialNumber.ToString("X16");

    /// <summary>True when the sector carries the "NTFS    " OEM id.</summary>
    public static bool HasOemId(ReadOnlySpan<byte> sector) =>
        sector.Length >= Size && sector.Slice(OemIdOffset, OemId.Length).SequenceEqual(OemId);

    /// <summary>Parses the boot sector; null without the "NTFS    " OEM id.</summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> for impossible BPB values.</exception>
    public static NtfsBootSector? ReadFrom(ReadOnlySpan<byte> sector)
    {
        if (!HasOemId(sector))
        {
            return null;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(sector[BootSignatureOffset..]) != MasterBootRecord.BootSignature)
        {
            throw Corrupt("the boot sector has no 0x55AA signature.");
        }

        int bytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(sector[BytesPerSectorOffset..]);
        if (bytesPerSector is < 256 or > 4096 || (bytesPerSector & (bytesPerSector - 1)) != 0)
        {
            throw Corrupt($"{bytesPerSector} bytes per sector is invalid.");
        }

        // 1..128 directly; 0xF4..0xFF (and beyond 0x80) mean 2^(256 - value) sectors.
        byte spcRaw = sector[SectorsPerClusterOffset];
        int sectorsPerCluster = spcRaw <= 0x80 ? spcRaw : 1 << Math.Min(256 - spcRaw, 31);
        if (sectorsPerCluster <= 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) != 0
            || (long)sectorsPerCluster * bytesPerSector > MaxClusterSize)
        {
            throw Corrupt($"sectors per cluster 0x{spcRaw:x2} is invalid.");
        }

        int clusterSize = sectorsPerCluster * bytesPerSector;
        long totalSectors = BinaryPrimitives.ReadInt64LittleEndian(sector[TotalSectorsOffset..]);
        long mftLcn = BinaryPrimitives.ReadInt64LittleEndian(sector[MftLcnOffset..]);
        if (totalSectors <= 0 || totalSectors > long.MaxValue / bytesPerSector)
        {
            throw Corrupt($"{totalSectors} total sectors is invalid.");
        }

        long totalClusters = totalSectors / sectorsPerCluster;
        if (mftLcn <= 0 || mftLcn >= totalClusters)
        {
            throw Corrupt($"the MFT cluster {mftLcn} is outside the volume ({totalClusters} clusters).");
        }

        // Positive: clusters per record; negative: 2^-value bytes.
        sbyte cpr = (sbyte)sector[ClustersPerMftRecordOffset];
        long recordSize = cpr > 0 ? (long)cpr * clusterSize : cpr < 0 && cpr >= -31 ? 1L << -cpr : 0;
        if (recordSize is < 256 or > 65536 || (recordSize & (recordSize - 1)) != 0)
        {
            throw Corrupt($"MFT record size {recordSize} (raw {cpr}) is invalid.");
        }

        return new NtfsBootSector
        {
            BytesPerSector = bytesPerSector,
            ClusterSize = clusterSize,
            TotalSectors = totalSectors,
            TotalClusters = totalClusters,
            MftLcn = mftLcn,
            MftRecordSize = (int)recordSize,
            SerialNumber = BinaryPrimitives.ReadUInt64LittleEndian(sector[SerialNumberOffset..]),
        };
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "NTFS boot sector: " + message);
}
