namespace Smc.Disks;

/// <summary>
/// Which bytes of a partition hold data, from the file system's own allocation maps, so that a copy can skip the rest.
/// </summary>
/// <remarks>
/// <para>
/// Per file system (the names <see cref="DiskInspector"/> reports; the superblock is read again and must agree):
/// </para>
/// <list type="bullet">
/// <item><description>
/// <b>ext2/ext3/ext4</b>: bytes 0–2047 (boot block and superblock), then the set bits of every group's block bitmap
/// (32- and 64-byte descriptors, flex_bg, meta_bg, sparse_super and sparse_super2, 1 KiB blocks with
/// <c>s_first_data_block</c> 1). A group flagged <c>BLOCK_UNINIT</c> (with gdt_csum or metadata_csum) is not read: its
/// used blocks are its metadata, as the kernel reconstructs them — the superblock backup, the descriptor blocks and the
/// reserved GDT blocks when the group has a backup, plus any block bitmap, inode bitmap or inode table located in it.
/// Those metadata blocks are added for every group. Checksums are verified. Null for bigalloc, and for a file system
/// that is not cleanly unmounted or frozen (journal needs recovery, state not clean, or errors recorded): its on-disk
/// bitmaps may lag behind the journal.
/// </description></item>
/// <item><description><b>ntfs</b>: the clusters set in <c>$Bitmap</c>, the boot sector and the backup boot sector (the
/// sector after the counted ones, and the partition's last sector).</description></item>
/// <item><description><b>vfat</b> (FAT12/16/32): the reserved sectors, the FATs and the root directory region, then the
/// clusters whose entry in the first FAT is not zero.</description></item>
/// <item><description><b>swap</b>: only the header page (4 KiB on x86-64): swap contents are never copied.</description></item>
/// <item><description><b>lvm2</b>: the PV's label and metadata, and per logical volume what its file system uses (<see cref="LvmVolumes"/>), or null when an LV can't be mapped.</description></item>
/// <item><description><b>xfs</b>, anything else or null: null (copy the whole partition).</description></item>
/// </list>
/// <para>
/// The result is sorted, merged and clipped to the partition. It is bounded: beyond
/// <see cref="ExtentBuilder.DefaultMaxExtents"/> extents, ones separated by small gaps are merged (the gap is then
/// copied too). A corrupt file system gives null, never another exception; the work is proportional to the size of the
/// allocation maps the partition can hold.
/// </para>
/// </remarks>
public static class AllocationMaps
{
    /// <summary>Bytes read from the start of the partition to find the superblock.</summary>
    private const int HeadSize = FileSystemProbe.HeadSize;

    /// <summary>
    /// Used byte extents of the file system in [<paramref name="partitionStart"/>, <paramref name="partitionStart"/> +
    /// <paramref name="partitionSize"/>), sorted, merged, within the partition, relative to its start; null when the file
    /// system is unknown or can't be read safely (then the caller copies the whole partition).
    /// </summary>
    /// <param name="reader">The whole disk.</param>
    /// <param name="partitionStart">Byte offset of the partition on the disk.</param>
    /// <param name="partitionSize">Size of the partition in bytes.</param>
    /// <param name="fileSystem">The file system as <see cref="DiskInspector"/> reports it: ext2, ext3, ext4, ntfs, vfat, swap (others give null).</param>
    /// <param name="mountedVolumes">
    /// For an LVM2 PV whose logical volumes are mounted (a running source): per LV, by its device-mapper uuid
    /// (<see cref="LvmMetadata.DeviceMapperUuid"/>), the extents its file system uses as the kernel reports them, in the
    /// LV's offsets (null: the whole LV). Other LVs are read from their own allocation maps.
    /// </param>
    /// <exception cref="DiskFormatException">
    /// <see cref="DiskErrorCodes.Truncated"/> when the partition extends past the end of the disk; <see cref="DiskErrorCodes.Io"/> when a read fails.
    /// </exception>
    public static IReadOnlyList<ByteExtent>? UsedExtents(DiskReader reader, long partitionStart, long partitionSize, string? fileSystem,
        IReadOnlyDictionary<string, IReadOnlyList<ByteExtent>?>? mountedVolumes = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfNegative(partitionStart);
        ArgumentOutOfRangeException.ThrowIfNegative(partitionSize);
        if (partitionStart > reader.Length || partitionSize > reader.Length - partitionStart)
        {
            throw new DiskFormatException(
                DiskErrorCodes.Truncated,
                $"The partition at {partitionStart} of {partitionSize} bytes extends past the end of the {reader.Length}-byte disk.");
        }

        Family family = fileSystem?.ToLowerInvariant() switch
        {
            "ext2" or "ext3" or "ext4" => Family.Ext,
            "ntfs" => Family.Ntfs,
            "vfat" => Family.Fat,
            "swap" => Family.Swap,
            "lvm2" => Family.Lvm,
            _ => Family.Unknown,
        };
        if (family == Family.Unknown || partitionSize == 0)
        {
            return null;
        }

        try
        {
            if (family == Family.Lvm)
            {
                return LvmVolumes.UsedExtents(reader, partitionStart, partitionSize, mountedVolumes);
            }

            byte[] head = reader.ReadBytes(partitionStart, (int)Math.Min(partitionSize, HeadSize));
            return family switch
            {
                Family.Ext => Ext(reader, partitionStart, partitionSize, head),
                Family.Ntfs => NtfsBootSector.ReadFrom(head) is { } ntfs ? NtfsVolume.UsedExtents(reader, partitionStart, partitionSize, ntfs) : null,
                Family.Fat => FatBootSector.ReadFrom(head) is { } fat ? FatVolume.UsedExtents(reader, partitionStart, partitionSize, fat) : null,
                _ => SwapHeader.ReadFrom(head) is { } swap ? [new ByteExtent(0, Math.Min(swap.PageSize, partitionSize))] : null,
            };
        }
        catch (DiskFormatException e) when (e.Code == DiskErrorCodes.CorruptFileSystem)
        {
            return null;
        }
    }

    private static IReadOnlyList<ByteExtent>? Ext(DiskReader reader, long partitionStart, long partitionSize, byte[] head)
    {
        if (head.Length < ExtSuperblock.Offset + ExtSuperblock.Size)
        {
            return null;
        }

        ReadOnlySpan<byte> raw = head.AsSpan(ExtSuperblock.Offset, ExtSuperblock.Size);
        return ExtSuperblock.ReadFrom(raw) is { } sb ? ExtAllocation.UsedExtents(reader, partitionStart, partitionSize, raw, sb) : null;
    }

    private enum Family
    {
        Lvm,
        Unknown,
        Ext,
        Ntfs,
        Fat,
        Swap,
    }
}
