using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks.Tests.Support;

/// <summary>
/// Writes an LVM2 physical volume label by hand. <c>pvcreate</c> refuses regular files here
/// ("No device found for pv.img": LVM only accepts block devices) and loop devices are not available, so the label is
/// built from LVM2's on-disk format (lib/label/label.h, lib/format_text/layout.h): label header "LABELONE" in sector 1,
/// its sector number, CRC (LVM's seed 0xf597a6cf, no final complement, over byte 20 to the end of the sector), content
/// offset 32, type "LVM2 001"; then pv_header: 32-character UUID, device size, data-area list, metadata-area list and a
/// version-2 extension. The metadata area itself is not written. <c>blkid -p</c> is used by the tests to confirm that
/// the hand-made label is valid LVM2.
/// </summary>
internal static class LvmLabel
{
    public const string Uuid = "SmcTst0123456789abcdefABCDEF0123";
    public const string DashedUuid = "SmcTst-0123-4567-89ab-cdef-ABCD-EF0123";

    public static void Write(string image, long offset, long deviceSize)
    {
        var sector = new byte[512];
        Encoding.ASCII.GetBytes("LABELONE").CopyTo(sector, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(sector.AsSpan(8), 1); // sector_xl
        BinaryPrimitives.WriteUInt32LittleEndian(sector.AsSpan(20), 32); // offset_xl
        Encoding.ASCII.GetBytes("LVM2 001").CopyTo(sector, 24);
        Encoding.ASCII.GetBytes(Uuid).CopyTo(sector, 32);
        BinaryPrimitives.WriteUInt64LittleEndian(sector.AsSpan(64), (ulong)deviceSize);
        BinaryPrimitives.WriteUInt64LittleEndian(sector.AsSpan(72), 1024 * 1024); // data area 1: pe_start, size 0 = to the end
        // 88..103: data area list terminator; metadata area 1 at 4 KiB:
        BinaryPrimitives.WriteUInt64LittleEndian(sector.AsSpan(104), 4096);
        BinaryPrimitives.WriteUInt64LittleEndian(sector.AsSpan(112), (1024 * 1024) - 4096);
        // 120..135: metadata area list terminator; pv_header_extension: version 2, flags PV_EXT_USED, no bootloader areas.
        BinaryPrimitives.WriteUInt32LittleEndian(sector.AsSpan(136), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(sector.AsSpan(140), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(sector.AsSpan(16), LvmCrc(sector.AsSpan(20)));

        using var file = new FileStream(image, FileMode.Open, FileAccess.Write);
        file.Position = offset + 512;
        file.Write(sector);
    }

    /// <summary>LVM2's calc_crc: reflected CRC-32 (polynomial 0xEDB88320), seed 0xf597a6cf, no final complement. Written bitwise here, independently of the library's table.</summary>
    private static uint LvmCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xf597a6cf;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return crc;
    }
}
