using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>
/// Plans the source disk's partition scheme on a new (usually larger) destination disk: same table kind, same partition
/// order, types, GUIDs, names, attributes and flags; a partition may grow, pushing the ones after it.
/// </summary>
/// <remarks>
/// <para>
/// Placement: partitions are taken in disk order. A partition keeps its source start unless the previous partition's
/// new end lies beyond it; then it starts at that end rounded up to <see cref="Alignment"/>. An unchanged layout thus
/// keeps every start, and growth that fits in a gap moves nothing.
/// </para>
/// <para>
/// GPT: the disk GUID, entry count and size, first usable LBA, and every entry byte except the LBAs are kept; the
/// primary header stays at LBA 1 with its entries where they were (LBA 2 when the source's primary was invalid); the
/// backup entries end just before the backup header in the destination's last LBA; the last usable LBA is the sector
/// before the backup entries; header and entry-array CRCs are computed. The protective MBR keeps the boot code, disk
/// signature and the 0xEE entry's slot and status, and covers min(destination sectors − 1, 2^32 − 1) sectors; other
/// entries of a hybrid MBR are dropped.
/// </para>
/// <para>
/// MBR: the sector keeps its boot code (440 bytes), disk signature, empty slots, types and active flags; the used
/// entries get the new LBA start and count, and CHS values computed from them. Extended/logical partitions are not
/// supported yet. A disk without a partition table is one placement, number 0, covering the whole disk.
/// </para>
/// <para>
/// Partitions are moved as raw bytes: a file system that records its own absolute position (NTFS and FAT boot sectors'
/// "hidden sectors", used by Windows boot code) is not patched here.
/// </para>
/// </remarks>
public static class DestinationLayout
{
    /// <summary>Alignment of a partition that has to move (1 MiB, as every partitioning tool aligns).</summary>
    public const long Alignment = 1024 * 1024;

    /// <summary>Head region when an MBR disk has no partitions.</summary>
    private const long EmptyMbrHeadRegion = 1024 * 1024;

    /// <summary>LBA of the primary GPT entries when they have to be placed anew.</summary>
    private const long DefaultPrimaryEntriesLba = 2;

    /// <summary>
    /// Plans the destination layout.
    /// </summary>
    /// <param name="sourceHead">The first bytes of the source disk (at least 34 sectors for GPT, 1 sector for MBR). Bytes not supplied read as zeros.</param>
    /// <param name="sourceTail">The last 33 sectors of the source disk (the GPT backup, used when the primary is invalid); may be empty for MBR.</param>
    /// <param name="sourceDiskSize">Source disk size in bytes.</param>
    /// <param name="destinationDiskSize">Destination disk size in bytes.</param>
    /// <param name="partitionSizes">New size in bytes by partition number (a multiple of the sector size); absent = same size.</param>
    /// <param name="sectorSize">The logical sector size of both disks: a power of two from 512 to 4096.</param>
    /// <exception cref="DiskFormatException">
    /// <see cref="DiskErrorCodes.LayoutShrink"/> when a requested size is smaller than the source partition;
    /// <see cref="DiskErrorCodes.LayoutDiskTooSmall"/> when the destination is too small for the plan;
    /// <see cref="DiskErrorCodes.LayoutUnsupported"/> for MBR extended/logical partitions or MBR values beyond 32 bits;
    /// <see cref="DiskErrorCodes.InvalidMbr"/>, <see cref="DiskErrorCodes.InvalidGpt"/> or <see cref="DiskErrorCodes.Truncated"/>
    /// for a corrupt source table (as <see cref="DiskInspector.ReadLayout"/>, plus overlapping partitions) or a source disk shorter than one sector.
    /// </exception>
    /// <exception cref="ArgumentException">A size is given for a partition that does not exist, or is not a multiple of the sector size; the head is shorter than one sector.</exception>
    public static LayoutPlan Plan(
        ReadOnlySpan<byte> sourceHead,
        ReadOnlySpan<byte> sourceTail,
        long sourceDiskSize,
        long destinationDiskSize,
        IReadOnlyDictionary<int, long> partitionSizes,
        int sectorSize = DiskReader.DefaultSectorSize)
    {
        ArgumentNullException.ThrowIfNull(partitionSizes);
        if (sectorSize is < 512 or > 4096 || (sectorSize & (sectorSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sectorSize), sectorSize, "The sector size must be a power of two from 512 to 4096.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(sourceDiskSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(destinationDiskSize);
        if (sourceDiskSize < sectorSize)
        {
            throw new DiskFormatException(DiskErrorCodes.Truncated, $"The source disk has {sourceDiskSize} bytes, less than one {sectorSize}-byte sector.");
        }

        if (sourceHead.Length < sectorSize || sourceHead.Length > sourceDiskSize)
        {
            throw new ArgumentException($"The source head must hold at least one {sectorSize}-byte sector and at most the whole disk.", nameof(sourceHead));
        }

        if (sourceTail.Length > sourceDiskSize)
        {
            throw new ArgumentException("The source tail is longer than the source disk.", nameof(sourceTail));
        }

        using var reader = new DiskReader(new HeadTailStream(sourceHead.ToArray(), sourceTail.ToArray(), sourceDiskSize), sectorSize);
        DiskLayout layout = PartitionTableReader.Read(reader);
        return layout.Kind switch
        {
            PartitionTableKind.Gpt => PlanGpt(reader, layout, destinationDiskSize, partitionSizes),
            PartitionTableKind.Mbr => PlanMbr(reader, layout, destinationDiskSize, partitionSizes),
            _ => PlanWholeDisk(sourceDiskSize, destinationDiskSize, partitionSizes, sectorSize),
        };
    }

    private static LayoutPlan PlanGpt(DiskReader reader, DiskLayout layout, long destinationDiskSize, IReadOnlyDictionary<int, long> sizes)
    {
        int sectorSize = reader.SectorSize;
        GptHeader source = layout.GptHeader!;
        int entrySize = (int)source.PartitionEntrySize;
        int arrayBytes = (int)source.PartitionEntryCount * entrySize;
        long entrySectors = (arrayBytes + sectorSize - 1L) / sectorSize;
        long firstUsable = (long)source.FirstUsableLba;
        long primaryEntriesLba = layout.GptBackupHeaderUsed ? DefaultPrimaryEntriesLba : (long)source.PartitionEntryLba;
        if (primaryEntriesLba + entrySectors > firstUsable)
        {
            throw new DiskFormatException(
                DiskErrorCodes.LayoutUnsupported,
                $"The primary GPT entries (LBA {primaryEntriesLba}, {entrySectors} sectors) would overlap the first usable LBA {firstUsable}.");
        }

        List<TablePartition> parts = InDiskOrder(layout.Partitions, DiskErrorCodes.InvalidGpt);
        PartitionPlacement[] placements = Place(parts, sizes, sectorSize);
        long destinationSectors = destinationDiskSize / sectorSize;
        long lastLba = destinationSectors - 1;
        long lastUsable = lastLba - entrySectors - 1;
        long endLba = Math.Max(firstUsable + 1, placements.Length == 0 ? 0 : placements.Max(p => (p.DestinationStart + p.DestinationSize) / sectorSize));
        if (lastUsable < endLba - 1)
        {
            throw TooSmall(destinationDiskSize, (endLba + entrySectors + 1) * sectorSize);
        }

        // The source entry array, with only the LBAs of the used entries changed.
        var entries = new byte[entrySectors * sectorSize];
        reader.ReadAt((long)source.PartitionEntryLba * sectorSize, entries.AsSpan(0, arrayBytes));
        foreach (PartitionPlacement p in placements)
        {
            Span<byte> entry = entries.AsSpan((p.Number - 1) * entrySize, entrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[GptPartitionEntry.FirstLbaOffset..], (ulong)(p.DestinationStart / sectorSize));
            BinaryPrimitives.WriteUInt64LittleEndian(entry[GptPartitionEntry.LastLbaOffset..], (ulong)(((p.DestinationStart + p.DestinationSize) / sectorSize) - 1));
        }

        var primary = new GptHeader
        {
            Revision = source.Revision,
            HeaderSize = source.HeaderSize,
            MyLba = 1,
            AlternateLba = (ulong)lastLba,
            FirstUsableLba = (ulong)firstUsable,
            LastUsableLba = (ulong)lastUsable,
            DiskGuid = source.DiskGuid,
            PartitionEntryLba = (ulong)primaryEntriesLba,
            PartitionEntryCount = source.PartitionEntryCount,
            PartitionEntrySize = source.PartitionEntrySize,
            PartitionEntryArrayCrc32 = GptHeader.ComputeEntryArrayCrc32(entries.AsSpan(0, arrayBytes)),
        };
        long backupEntriesLba = lastLba - entrySectors;
        GptHeader backup = primary.ToBackup((ulong)backupEntriesLba);
        var primarySector = new byte[sectorSize];
        primary.WriteTo(primarySector);
        var backupSector = new byte[sectorSize];
        backup.WriteTo(backupSector);

        MasterBootRecord sourceMbr = layout.Mbr!;
        int slot = 0;
        while (sourceMbr.Partitions[slot].PartitionType != MbrPartitionEntry.TypeGptProtective)
        {
            slot++;
        }

        var mbrEntries = new MbrPartitionEntry[MasterBootRecord.PartitionEntryCount];
        for (int i = 0; i < mbrEntries.Length; i++)
        {
            mbrEntries[i] = i == slot
                ? MbrPartitionEntry.Create(
                    MbrPartitionEntry.TypeGptProtective,
                    1,
                    (uint)Math.Min(destinationSectors - 1, uint.MaxValue),
                    sourceMbr.Partitions[slot].IsActive)
                : new MbrPartitionEntry();
        }

        byte[] mbrSector = MbrSector(reader, sourceMbr, mbrEntries);
        return new LayoutPlan(
            reader.Length,
            destinationDiskSize,
            PartitionTableKind.Gpt,
            ByNumber(placements),
            parts.Count == 0 ? firstUsable * sectorSize : parts[0].StartBytes,
            [(0, mbrSector), (sectorSize, primarySector), (primaryEntriesLba * sectorSize, entries), (backupEntriesLba * sectorSize, entries.ToArray()), (lastLba * sectorSize, backupSector)]);
    }

    private static LayoutPlan PlanMbr(DiskReader reader, DiskLayout layout, long destinationDiskSize, IReadOnlyDictionary<int, long> sizes)
    {
        int sectorSize = reader.SectorSize;
        if (layout.Partitions.FirstOrDefault(p => p.IsExtendedContainer || p.Number > MasterBootRecord.PartitionEntryCount) is { } extended)
        {
            throw new DiskFormatException(
                DiskErrorCodes.LayoutUnsupported,
                $"Partition {extended.Number} is an extended or logical partition; only primary MBR partitions can be laid out for now.");
        }

        List<TablePartition> parts = InDiskOrder(layout.Partitions, DiskErrorCodes.InvalidMbr);
        PartitionPlacement[] placements = Place(parts, sizes, sectorSize);
        long end = placements.Length == 0 ? 0 : placements.Max(p => p.DestinationStart + p.DestinationSize);
        long headRegion = parts.Count == 0 ? Math.Min(EmptyMbrHeadRegion, reader.Length) : parts[0].StartBytes;
        if (destinationDiskSize / sectorSize * sectorSize < Math.Max(end, headRegion))
        {
            throw TooSmall(destinationDiskSize, Math.Max(end, headRegion));
        }

        MasterBootRecord source = layout.Mbr!;
        var entries = new MbrPartitionEntry[MasterBootRecord.PartitionEntryCount];
        for (int i = 0; i < entries.Length; i++)
        {
            MbrPartitionEntry entry = source.Partitions[i];
            PartitionPlacement? p = placements.FirstOrDefault(x => x.Number == i + 1);
            if (p is null)
            {
                entries[i] = entry;
                continue;
            }

            long first = p.DestinationStart / sectorSize;
            long count = p.DestinationSize / sectorSize;
            if (first + count > uint.MaxValue + 1L)
            {
                throw new DiskFormatException(
                    DiskErrorCodes.LayoutUnsupported,
                    $"Partition {p.Number} would end at sector {first + count}, beyond what an MBR can address (2^32 sectors).");
            }

            entries[i] = MbrPartitionEntry.Create(entry.PartitionType, (uint)first, (uint)count, entry.IsActive);
        }

        return new LayoutPlan(
            reader.Length,
            destinationDiskSize,
            PartitionTableKind.Mbr,
            ByNumber(placements),
            headRegion,
            [(0, MbrSector(reader, source, entries))]);
    }

    private static LayoutPlan PlanWholeDisk(long sourceDiskSize, long destinationDiskSize, IReadOnlyDictionary<int, long> sizes, int sectorSize)
    {
        long size = sourceDiskSize;
        foreach ((int number, long requested) in sizes)
        {
            if (number != 0)
            {
                throw new ArgumentException($"The disk has no partition table, so only partition 0 (the whole disk) exists, not {number}.", nameof(sizes));
            }

            size = CheckedSize(0, requested, sourceDiskSize, sectorSize);
        }

        if (destinationDiskSize < size)
        {
            throw TooSmall(destinationDiskSize, size);
        }

        return new LayoutPlan(sourceDiskSize, destinationDiskSize, PartitionTableKind.None, [new PartitionPlacement(0, 0, sourceDiskSize, 0, size)], 0, []);
    }

    /// <summary>The data partitions sorted by start; overlapping ones make the table corrupt.</summary>
    private static List<TablePartition> InDiskOrder(IReadOnlyList<TablePartition> partitions, string corruptCode)
    {
        List<TablePartition> parts = [.. partitions.OrderBy(p => p.StartBytes)];
        for (int i = 1; i < parts.Count; i++)
        {
            if (parts[i].StartBytes < parts[i - 1].StartBytes + parts[i - 1].SizeBytes)
            {
                throw new DiskFormatException(corruptCode, $"Partitions {parts[i - 1].Number} and {parts[i].Number} overlap.");
            }
        }

        return parts;
    }

    /// <summary>Places the partitions (in disk order): same start unless the previous one's new end is past it, then that end rounded up to <see cref="Alignment"/>.</summary>
    private static PartitionPlacement[] Place(List<TablePartition> parts, IReadOnlyDictionary<int, long> sizes, int sectorSize)
    {
        foreach (int number in sizes.Keys)
        {
            if (!parts.Any(p => p.Number == number))
            {
                throw new ArgumentException($"A size is given for partition {number}, which the source disk does not have.", nameof(sizes));
            }
        }

        var placements = new PartitionPlacement[parts.Count];
        long cursor = 0;
        for (int i = 0; i < parts.Count; i++)
        {
            TablePartition p = parts[i];
            long size = sizes.TryGetValue(p.Number, out long requested) ? CheckedSize(p.Number, requested, p.SizeBytes, sectorSize) : p.SizeBytes;
            long start = p.StartBytes >= cursor ? p.StartBytes : AlignUp(cursor);
            if (start < 0 || size > long.MaxValue - start)
            {
                throw new DiskFormatException(DiskErrorCodes.LayoutDiskTooSmall, $"Partition {p.Number} of {size} bytes cannot be placed at {start}.");
            }

            placements[i] = new PartitionPlacement(p.Number, p.StartBytes, p.SizeBytes, start, size);
            cursor = start + size;
        }

        return placements;
    }

    private static long CheckedSize(int number, long requested, long sourceSize, int sectorSize)
    {
        if (requested <= 0 || requested % sectorSize != 0)
        {
            throw new ArgumentException($"The size {requested} for partition {number} is not a positive multiple of the {sectorSize}-byte sector.", nameof(requested));
        }

        if (requested < sourceSize)
        {
            throw new DiskFormatException(
                DiskErrorCodes.LayoutShrink,
                $"Partition {number} would shrink from {sourceSize} to {requested} bytes; shrinking is not supported.");
        }

        return requested;
    }

    private static long AlignUp(long value) => value > long.MaxValue - Alignment ? -1 : (value + Alignment - 1) / Alignment * Alignment;

    /// <summary>Sector 0 as on the source (boot code, disk signature, anything past byte 512 of a large sector) with new entries.</summary>
    private static byte[] MbrSector(DiskReader reader, MasterBootRecord source, MbrPartitionEntry[] entries)
    {
        byte[] sector = reader.ReadBytes(0, reader.SectorSize);
        new MasterBootRecord
        {
            BootCode = source.BootCode,
            DiskSignature = source.DiskSignature,
            Reserved = source.Reserved,
            Partitions = entries,
        }.WriteTo(sector);
        return sector;
    }

    private static PartitionPlacement[] ByNumber(PartitionPlacement[] placements) => [.. placements.OrderBy(p => p.Number)];

    private static DiskFormatException TooSmall(long destinationDiskSize, long needed) => new(
        DiskErrorCodes.LayoutDiskTooSmall,
        $"The destination disk has {destinationDiskSize} bytes; the layout needs at least {needed}.");
}
