using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks;

/// <summary>
/// The LVM2 physical volume label: a 512-byte sector among the first four holding "LABELONE", its own sector number,
/// a CRC, the offset of the PV header and the type "LVM2 001"; the PV header starts with the 32-character PV UUID.
/// </summary>
internal sealed class LvmPvLabel
{
    public const int SectorSize = 512;
    public const int ScanSectors = 4;

    /// <summary>LVM's CRC seed (lib/misc/crc.h INITIAL_CRC); no final complement.</summary>
    public const uint CrcSeed = 0xf597a6cf;

    public const int UuidLength = 32;

    private const int SectorNumberOffset = 8;
    private const int CrcOffset = 16;
    private const int ContentOffsetOffset = 20;
    private const int TypeOffset = 24;

    private static readonly byte[] LabelId = Encoding.ASCII.GetBytes("LABELONE");
    private static readonly byte[] LabelType = Encoding.ASCII.GetBytes("LVM2 001");

    /// <summary>The PV UUID in LVM's 6-4-4-4-4-4-6 dashed form.</summary>
    public required string Uuid { get; init; }

    /// <summary>Scans the first four sectors of <paramref name="head"/>; null when no LVM2 label is there.</summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> when a label is found but its CRC or fields are wrong.</exception>
    public static LvmPvLabel? ReadFrom(ReadOnlySpan<byte> head)
    {
        for (int i = 0; i < ScanSectors && head.Length >= (i + 1) * SectorSize; i++)
        {
            ReadOnlySpan<byte> sector = head.Slice(i * SectorSize, SectorSize);
            if (!sector[..8].SequenceEqual(LabelId) || !sector.Slice(TypeOffset, 8).SequenceEqual(LabelType))
            {
                continue;
            }

            ulong sectorNumber = BinaryPrimitives.ReadUInt64LittleEndian(sector[SectorNumberOffset..]);
            uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(sector[CrcOffset..]);
            uint contentOffset = BinaryPrimitives.ReadUInt32LittleEndian(sector[ContentOffsetOffset..]);
            if (sectorNumber != (ulong)i)
            {
                throw Corrupt($"the label in sector {i} says it is in sector {sectorNumber}.");
            }

            uint crc = Crc32.Update(CrcSeed, sector[ContentOffsetOffset..]);
            if (crc != storedCrc)
            {
                throw Corrupt($"label CRC 0x{storedCrc:x8} does not match 0x{crc:x8}.");
            }

            if (contentOffset < 32 || contentOffset > SectorSize - UuidLength)
            {
                throw Corrupt($"PV header offset {contentOffset} is outside the label sector.");
            }

            ReadOnlySpan<byte> uuid = sector.Slice((int)contentOffset, UuidLength);
            foreach (byte b in uuid)
            {
                if (!char.IsAsciiLetterOrDigit((char)b) && b is not ((byte)'!' or (byte)'#'))
                {
                    throw Corrupt("the PV UUID has characters outside LVM's id alphabet.");
                }
            }

            string s = Encoding.ASCII.GetString(uuid);
            return new LvmPvLabel { Uuid = $"{s[..6]}-{s[6..10]}-{s[10..14]}-{s[14..18]}-{s[18..22]}-{s[22..26]}-{s[26..]}" };
        }

        return null;
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "LVM2 label: " + message);
}
