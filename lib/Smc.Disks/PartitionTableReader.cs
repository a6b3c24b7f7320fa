namespace Smc.Disks;

/// <summary>
/// Reads and validates the partition table of a disk: MBR with its EBR chain, or GPT (primary header, falling back to
/// the backup header in the last LBA). Every LBA, count and size is checked against the disk before it is used.
/// </summary>
internal static class PartitionTableReader
{
    /// <summary>Longest EBR chain followed; a longer one is treated as corrupt.</summary>
    public const int MaxLogicalPartitions = 128;

    /// <summary>Most GPT entries accepted (128 is what every common tool writes).</summary>
    public const uint MaxGptEntryCount = 4096;

    public const uint MinGptEntrySize = 128;

    public const uint MaxGptEntrySize = 4096;

    /// <summary>Largest GPT entry array accepted, in bytes.</summary>
    public const int MaxGptEntryArrayBytes = 1024 * 1024;

    private const int FirstLogicalNumber = 5;

    public static DiskLayout Read(DiskReader reader)
    {
        int sectorSize = reader.SectorSize;
        if (reader.Length < Math.Max(sectorSize, MasterBootRecord.Size))
        {
            throw new DiskFormatException(
                DiskErrorCodes.Truncated,
                $"The disk has {reader.Length} bytes, less than one {sectorSize}-byte sector.");
        }

        byte[] lba0 = reader.ReadBytes(0, sectorSize);
        if (!MasterBootRecord.HasBootSignature(lba0) || FileSystemProbe.IsVolumeBootSector(lba0))
        {
            return new DiskLayout { Kind = PartitionTableKind.None };
        }

        MasterBootRecord mbr = MasterBootRecord.ReadFrom(lba0);
        for (int i = 0; i < mbr.Partitions.Count; i++)
        {
            byte status = mbr.Partitions[i].Status;
            if (status is not (MbrPartitionEntry.ActiveStatus or MbrPartitionEntry.InactiveStatus))
            {
                throw new DiskFormatException(
                    DiskErrorCodes.InvalidMbr,
                    $"MBR entry {i + 1} has status byte 0x{status:x2}; only 0x00 and 0x80 are valid.");
            }
        }

        return mbr.IsGptProtective ? ReadGpt(reader, mbr) : ReadMbr(reader, mbr);
    }

    private static DiskLayout ReadMbr(DiskReader reader, MasterBootRecord mbr)
    {
        long diskSectors = reader.SectorCount;
        var parts = new List<TablePartition>();
        MbrPartitionEntry? extended = null;
        for (int i = 0; i < mbr.Partitions.Count; i++)
        {
            MbrPartitionEntry entry = mbr.Partitions[i];
            if (entry.IsEmpty)
            {
                continue;
            }

            int number = i + 1;
            if (entry.FirstLba == 0)
            {
                throw new DiskFormatException(DiskErrorCodes.InvalidMbr, $"MBR partition {number} starts at LBA 0, on top of the MBR.");
            }

            CheckWithinDisk(number, entry.FirstLba, entry.SectorCount, diskSectors);
            parts.Add(MbrPartition(reader, number, entry.FirstLba, entry));
            if (entry.IsExtended && extended is null)
            {
                extended = entry;
            }
        }

        if (extended is not null)
        {
            ReadLogicalPartitions(reader, extended, parts);
        }

        return new DiskLayout { Kind = PartitionTableKind.Mbr, Mbr = mbr, Partitions = parts };
    }

    /// <summary>Walks the EBR chain of <paramref name="extended"/>, adding logical partitions 5, 6, …</summary>
    private static void ReadLogicalPartitions(DiskReader reader, MbrPartitionEntry extended, List<TablePartition> parts)
    {
        int sectorSize = reader.SectorSize;
        long diskSectors = reader.SectorCount;
        long extStart = extended.FirstLba;
        long extEnd = extStart + extended.SectorCount;
        long ebrLba = extStart;
        var visited = new HashSet<long>();
        int number = FirstLogicalNumber;
        for (int hop = 0; ; hop++)
        {
            if (hop >= MaxLogicalPartitions)
            {
                throw new DiskFormatException(DiskErrorCodes.InvalidMbr, $"The EBR chain is longer than {MaxLogicalPartitions} links.");
            }

            if (!visited.Add(ebrLba))
            {
                throw new DiskFormatException(DiskErrorCodes.InvalidMbr, $"The EBR chain loops back to LBA {ebrLba}.");
            }

            byte[] sector = reader.ReadBytes(ebrLba * sectorSize, sectorSize);
            if (!MasterBootRecord.HasBootSignature(sector))
            {
                if (hop == 0)
                {
                    return; // An extended partition without logical partitions.
                }

                throw new DiskFormatException(DiskErrorCodes.InvalidMbr, $"The EBR at LBA {ebrLba} has no 0x55AA signature.");
            }

            MasterBootRecord ebr = MasterBootRecord.ReadFrom(sector);
            MbrPartitionEntry data = ebr.Partitions[0];
            MbrPartitionEntry link = ebr.Partitions[1];
            if (!data.IsEmpty && !data.IsExtended)
            {
                if (data.Status is not (MbrPartitionEntry.ActiveStatus or MbrPartitionEntry.InactiveStatus))
                {
                    throw new DiskFormatException(
                        DiskErrorCodes.InvalidMbr,
                        $"The EBR at LBA {ebrLba} has status byte 0x{data.Status:x2}; only 0x00 and 0x80 are valid.");
                }

                if (data.FirstLba == 0)
                {
                    throw new DiskFormatException(DiskErrorCodes.InvalidMbr, $"Logical partition {number} starts on its own EBR at LBA {ebrLba}.");
                }

                long first = ebrLba + data.FirstLba;
                CheckWithinDisk(number, first, data.SectorCount, diskSectors);
                parts.Add(MbrPartition(reader, number, first, data));
                number++;
            }

            if (link.IsEmpty || !link.IsExtended)
            {
                return;
            }

            long next = extStart + link.FirstLba;
            if (next >= extEnd)
            {
                throw new DiskFormatException(
                    DiskErrorCodes.InvalidMbr,
                    $"The EBR at LBA {ebrLba} links to LBA {next}, outside the extended partition (LBA {extStart}..{extEnd - 1}).");
            }

            ebrLba = next;
        }
    }

    private static TablePartition MbrPartition(DiskReader reader, int number, long firstLba, MbrPartitionEntry entry) => new()
    {
        Number = number,
        FirstLba = firstLba,
        SectorCount = entry.SectorCount,
        StartBytes = firstLba * reader.SectorSize,
        SizeBytes = (long)entry.SectorCount * reader.SectorSize,
        TypeId = entry.PartitionType.ToString("x2"),
        Bootable = entry.IsActive,
        IsExtendedContainer = entry.IsExtended,
        MbrEntry = entry,
    };

    private static void CheckWithinDisk(int number, long firstLba, long sectorCount, long diskSectors)
    {
        if (firstLba >= diskSectors || sectorCount > diskSectors - firstLba)
        {
            throw new DiskFormatException(
                DiskErrorCodes.Truncated,
                $"Partition {number} (LBA {firstLba}, {sectorCount} sectors) ends beyond the end of the disk ({diskSectors} sectors).");
        }
    }

    private static DiskLayout ReadGpt(DiskReader reader, MasterBootRecord mbr)
    {
        long diskSectors = reader.SectorCount;
        DiskFormatException primaryError;
        try
        {
            (GptHeader header, List<TablePartition> parts) = ReadGptAt(reader, 1, "primary");
            return new DiskLayout { Kind = PartitionTableKind.Gpt, Mbr = mbr, GptHeader = header, Partitions = parts };
        }
        catch (DiskFormatException e)
        {
            primaryError = e;
        }

        long backupLba = diskSectors - 1;
        DiskFormatException? backupError = null;
        if (backupLba > 1)
        {
            try
            {
                (GptHeader header, List<TablePartition> parts) = ReadGptAt(reader, backupLba, "backup");
                return new DiskLayout
                {
                    Kind = PartitionTableKind.Gpt,
                    Mbr = mbr,
                    GptHeader = header,
                    GptBackupHeaderUsed = true,
                    Partitions = parts,
                    Warnings = [$"The primary GPT is invalid ({primaryError.Message}); the backup header at LBA {backupLba} was used."],
                };
            }
            catch (DiskFormatException e)
            {
                backupError = e;
            }
        }

        string code = primaryError.Code == DiskErrorCodes.InvalidGpt ? DiskErrorCodes.InvalidGpt : primaryError.Code;
        throw new DiskFormatException(
            code,
            $"The disk has a protective MBR but no valid GPT. Primary: {primaryError.Message} Backup: {backupError?.Message ?? "the disk is too small to hold one."}",
            primaryError);
    }

    private static (GptHeader Header, List<TablePartition> Parts) ReadGptAt(DiskReader reader, long lba, string which)
    {
        int sectorSize = reader.SectorSize;
        long diskSectors = reader.SectorCount;
        GptHeader header = GptHeader.ReadFrom(reader.ReadBytes(lba * sectorSize, sectorSize));
        ulong first = header.FirstUsableLba;
        ulong last = header.LastUsableLba;
        if (header.MyLba != (ulong)lba)
        {
            throw Invalid($"The {which} GPT header at LBA {lba} says it is at LBA {header.MyLba}.");
        }

        if (first < 2 || first > last || ((ulong)lba >= first && (ulong)lba <= last))
        {
            throw Invalid($"The {which} GPT header's usable range LBA {first}..{last} is invalid.");
        }

        if (last >= (ulong)diskSectors)
        {
            throw new DiskFormatException(
                DiskErrorCodes.Truncated,
                $"The {which} GPT header's last usable LBA {last} is beyond the disk's last LBA {diskSectors - 1}.");
        }

        uint entrySize = header.PartitionEntrySize;
        uint entryCount = header.PartitionEntryCount;
        if (entrySize < MinGptEntrySize || entrySize > MaxGptEntrySize || entrySize % 8 != 0)
        {
            throw Invalid($"The {which} GPT header's entry size {entrySize} is not a multiple of 8 in {MinGptEntrySize}..{MaxGptEntrySize}.");
        }

        long arrayBytes = (long)entryCount * entrySize;
        if (entryCount > MaxGptEntryCount || arrayBytes > MaxGptEntryArrayBytes)
        {
            throw Invalid($"The {which} GPT header declares {entryCount} entries of {entrySize} bytes, more than supported.");
        }

        ulong entriesLba = header.PartitionEntryLba;
        long arraySectors = (arrayBytes + sectorSize - 1) / sectorSize;
        if (entriesLba < 2)
        {
            throw Invalid($"The {which} GPT entry array at LBA {entriesLba} overlaps the MBR or primary header.");
        }

        if (entriesLba >= (ulong)diskSectors || arraySectors > diskSectors - (long)entriesLba)
        {
            throw new DiskFormatException(
                DiskErrorCodes.Truncated,
                $"The {which} GPT entry array (LBA {entriesLba}, {arraySectors} sectors) ends beyond the end of the disk.");
        }

        ulong entriesEnd = entriesLba + (ulong)arraySectors; // exclusive
        if (arraySectors > 0 && ((entriesLba <= last && entriesEnd > first) || ((ulong)lba >= entriesLba && (ulong)lba < entriesEnd)))
        {
            throw Invalid($"The {which} GPT entry array (LBA {entriesLba}..{entriesEnd - 1}) overlaps the usable area or its header.");
        }

        byte[] entries = reader.ReadBytes((long)entriesLba * sectorSize, (int)arrayBytes);
        uint crc = GptHeader.ComputeEntryArrayCrc32(entries);
        if (crc != header.PartitionEntryArrayCrc32)
        {
            throw Invalid($"The {which} GPT entry array CRC32 is 0x{header.PartitionEntryArrayCrc32:x8} but the array hashes to 0x{crc:x8}.");
        }

        var parts = new List<TablePartition>();
        for (int i = 0; i < entryCount; i++)
        {
            GptPartitionEntry entry = GptPartitionEntry.ReadFrom(entries.AsSpan(i * (int)entrySize, (int)entrySize));
            if (!entry.IsUsed)
            {
                continue;
            }

            if (entry.FirstLba > entry.LastLba || entry.FirstLba < first || entry.LastLba > last)
            {
                throw Invalid($"GPT entry {i + 1} spans LBA {entry.FirstLba}..{entry.LastLba}, outside the usable range {first}..{last}.");
            }

            long firstLba = (long)entry.FirstLba;
            long count = (long)(entry.LastLba - entry.FirstLba) + 1;
            parts.Add(new TablePartition
            {
                Number = i + 1,
                FirstLba = firstLba,
                SectorCount = count,
                StartBytes = firstLba * sectorSize,
                SizeBytes = count * sectorSize,
                TypeId = entry.TypeGuid.ToString("D"),
                Bootable = entry.IsLegacyBiosBootable,
                Name = entry.Name.Length > 0 ? entry.Name : null,
                GptEntry = entry,
            });
        }

        return (header, parts);
    }

    private static DiskFormatException Invalid(string message) => new(DiskErrorCodes.InvalidGpt, message);
}
