using System.Buffers.Binary;

namespace Smc.Core.Images;

/// <summary>
/// The 512-byte footer that makes a raw disk a fixed VHD (Microsoft VHD specification 1.0): a fixed VHD is
/// the raw bytes followed by this footer. Written by hand: no served package writes VHD.
/// </summary>
public static class VhdFooter
{
    public const int Size = 512;
    private static readonly DateTime VhdEpoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static byte[] Create(long diskSize, Guid uniqueId, DateTime createdUtc)
    {
        byte[] f = new byte[Size];
        "conectix"u8.CopyTo(f);
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(8), 2);              // features: reserved bit set
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(12), 0x00010000);    // file format version 1.0
        BinaryPrimitives.WriteUInt64BigEndian(f.AsSpan(16), ulong.MaxValue); // data offset: none (fixed disk)
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(24), (uint)Math.Max(0, (createdUtc - VhdEpoch).TotalSeconds));
        "smc "u8.CopyTo(f.AsSpan(28));                                       // creator application
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(32), 0x00010000);    // creator version
        "Wi2k"u8.CopyTo(f.AsSpan(36));                                       // creator host OS
        BinaryPrimitives.WriteUInt64BigEndian(f.AsSpan(40), (ulong)diskSize); // original size
        BinaryPrimitives.WriteUInt64BigEndian(f.AsSpan(48), (ulong)diskSize); // current size
        (ushort c, byte h, byte s) = Geometry(diskSize / 512);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(56), c);
        f[58] = h;
        f[59] = s;
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(60), 2);             // disk type: fixed
        uniqueId.TryWriteBytes(f.AsSpan(68, 16), bigEndian: true, out _);
        uint sum = 0;
        foreach (byte b in f)
        {
            sum += b;
        }

        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(64), ~sum);
        return f;
    }

    /// <summary>CHS geometry as the VHD specification's appendix computes it.</summary>
    private static (ushort Cylinders, byte Heads, byte SectorsPerTrack) Geometry(long totalSectors)
    {
        totalSectors = Math.Min(totalSectors, 65535L * 16 * 255);
        long sectorsPerTrack, heads, cylinderTimesHeads;
        if (totalSectors >= 65535L * 16 * 63)
        {
            sectorsPerTrack = 255;
            heads = 16;
            cylinderTimesHeads = totalSectors / sectorsPerTrack;
        }
        else
        {
            sectorsPerTrack = 17;
            cylinderTimesHeads = totalSectors / sectorsPerTrack;
            heads = Math.Max(4, (cylinderTimesHeads + 1023) / 1024);
            if (cylinderTimesHeads >= heads * 1024 || heads > 16)
            {
                sectorsPerTrack = 31;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }

            if (cylinderTimesHeads >= heads * 1024)
            {
                sectorsPerTrack = 63;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }
        }

        return ((ushort)(cylinderTimesHeads / heads), (byte)heads, (byte)sectorsPerTrack);
    }
}
