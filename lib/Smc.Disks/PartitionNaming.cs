namespace Smc.Disks;

/// <summary>Names partitions the way Linux does: <c>/dev/sda1</c>, <c>/dev/nvme0n1p1</c>; images get <c>disk.img#1</c>.</summary>
internal static class PartitionNaming
{
    public static string PartitionDevice(string disk, int number, bool isBlockDevice)
    {
        if (!isBlockDevice)
        {
            return $"{disk}#{number}";
        }

        // The kernel inserts "p" when the disk name ends in a digit (nvme0n1, mmcblk0, loop0, md0).
        return disk.Length > 0 && char.IsAsciiDigit(disk[^1]) ? $"{disk}p{number}" : $"{disk}{number}";
    }
}
