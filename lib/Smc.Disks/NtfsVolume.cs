using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Smc.Disks;

/// <summary>
/// Reads what the inventory needs from an NTFS volume: the label from <c>$Volume</c> (MFT record 3) and the used space
/// from <c>$Bitmap</c> (MFT record 6), whose non-resident <c>$DATA</c> is one bit per cluster.
/// MFT records are located through the data runs of <c>$MFT</c> itself (record 0).
/// </summary>
internal static class NtfsVolume
{
    public const int MftRecordNumber = 0;
    public const int VolumeRecordNumber = 3;
    public const int BitmapRecordNumber = 6;

    /// <summary>Offset of the flags in the <c>$VOLUME_INFORMATION</c> value.</summary>
    public const int VolumeInformationFlagsOffset = 10;

    /// <summary><c>$VOLUME_INFORMATION</c> flag: the volume needs chkdsk.</summary>
    public const ushort VolumeDirty = 0x0001;

    /// <summary>Bitmap bytes read per chunk.</summary>
    private const int ChunkSize = 1024 * 1024;

    public static DetectedFileSystem Probe(DiskReader reader, long volumeOffset, long volumeSize, NtfsBootSector boot)
    {
        long? used = null;
        string? label = null;
        if (boot.TotalSectors <= volumeSize / boot.BytesPerSector)
        {
            try
            {
                var volume = new Volume(reader, volumeOffset, boot);
                List<NtfsDataRun> mftRuns = volume.MftRuns();
                label = TryReadLabel(volume, mftRuns);
                used = ReadUsedBytes(volume, mftRuns);
            }
            catch (DiskFormatException)
            {
                // The boot sector is valid, so this is NTFS; only the usage is unknown.
            }
        }

        return new DetectedFileSystem("ntfs", used, boot.SerialNumberText, label);
    }

    private static string? TryReadLabel(Volume volume, List<NtfsDataRun> mftRuns)
    {
        try
        {
            NtfsFileRecord record = volume.ReadRecord(mftRuns, VolumeRecordNumber);
            NtfsAttribute? name = record.Find(NtfsAttribute.TypeVolumeName);
            return name is null || name.IsNonResident || name.ResidentValue.Length == 0
                ? null
                : Encoding.Unicode.GetString(name.ResidentValue, 0, name.ResidentValue.Length & ~1);
        }
        catch (DiskFormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Used byte extents of the volume: the clusters whose <c>$Bitmap</c> bit is set, plus the boot sector, the sector
    /// after the last one the boot sector counts (where the backup boot sector lives) and the partition's last sector.
    /// Null when <c>$Volume</c> is flagged dirty (chkdsk pending: <c>$Bitmap</c> may not match the files).
    /// </summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> for corrupt metadata.</exception>
    public static IReadOnlyList<ByteExtent>? UsedExtents(DiskReader reader, long volumeOffset, long volumeSize, NtfsBootSector boot)
    {
        int sectorSize = boot.BytesPerSector;
        if (boot.TotalSectors > volumeSize / sectorSize)
        {
            throw Corrupt($"{boot.TotalSectors} sectors of {sectorSize} bytes do not fit the {volumeSize}-byte partition.");
        }

        var volume = new Volume(reader, volumeOffset, boot);
        List<NtfsDataRun> mftRuns = volume.MftRuns();
        NtfsAttribute info = volume.ReadRecord(mftRuns, VolumeRecordNumber).Find(NtfsAttribute.TypeVolumeInformation)
            ?? throw Corrupt("$Volume has no $VOLUME_INFORMATION attribute.");
        if (info.IsNonResident || info.ResidentValue.Length < VolumeInformationFlagsOffset + 2)
        {
            throw Corrupt("$VOLUME_INFORMATION is not a resident value of at least 12 bytes.");
        }

        if ((BinaryPrimitives.ReadUInt16LittleEndian(info.ResidentValue.AsSpan(VolumeInformationFlagsOffset)) & VolumeDirty) != 0)
        {
            return null;
        }

        long clusterSize = boot.ClusterSize;
        var used = new ExtentBuilder(volumeSize);
        used.Add(0, sectorSize);
        ReadBitmap(volume, mftRuns, (chunk, firstBit, bitCount) =>
            BitRuns.ForEach(chunk, bitCount, (first, count) => used.Add((firstBit + first) * clusterSize, count * clusterSize)));
        used.Add(boot.TotalSectors * sectorSize, sectorSize);
        used.Add(volumeSize - sectorSize, sectorSize);
        return used.Build();
    }

    private static long ReadUsedBytes(Volume volume, List<NtfsDataRun> mftRuns)
    {
        long setBits = 0;
        ReadBitmap(volume, mftRuns, (chunk, firstBit, bitCount) => setBits += CountBits(chunk, 0, bitCount));
        return setBits * volume.Boot.ClusterSize;
    }

    /// <summary>Passes <c>$Bitmap</c> to <paramref name="onChunk"/> in chunks, only the bits of the volume's clusters.</summary>
    private static void ReadBitmap(Volume volume, List<NtfsDataRun> mftRuns, BitmapChunkHandler onChunk)
    {
        NtfsFileRecord record = volume.ReadRecord(mftRuns, BitmapRecordNumber);
        NtfsAttribute data = record.Find(NtfsAttribute.TypeData) ?? throw Corrupt("$Bitmap has no unnamed $DATA attribute in its base record.");
        long clusters = volume.Boot.TotalClusters;
        long neededBytes = (clusters + 7) / 8;
        if (data.DataSize < neededBytes)
        {
            throw Corrupt($"$Bitmap has {data.DataSize} bytes, fewer than the {neededBytes} needed for {clusters} clusters.");
        }

        if (!data.IsNonResident)
        {
            onChunk(data.ResidentValue, 0, clusters);
            return;
        }

        if (data.StartVcn != 0)
        {
            throw Corrupt("$Bitmap's $DATA does not start at VCN 0.");
        }

        List<NtfsDataRun> runs = NtfsDataRun.Decode(data.MappingPairs, clusters);
        var buffer = new byte[(int)Math.Min(ChunkSize, neededBytes)];
        for (long done = 0; done < neededBytes;)
        {
            int n = (int)Math.Min(buffer.Length, neededBytes - done);
            volume.ReadData(runs, done, buffer.AsSpan(0, n));
            onChunk(buffer.AsSpan(0, n), done * 8, Math.Min(n * 8L, clusters - (done * 8)));
            done += n;
        }
    }

    /// <summary>Set bits in <paramref name="bytes"/>, whose first bit is bit <paramref name="firstBit"/> of the bitmap, counting only bits below <paramref name="bitLimit"/>.</summary>
    private static long CountBits(ReadOnlySpan<byte> bytes, long firstBit, long bitLimit)
    {
        long wholeBytes = Math.Clamp((bitLimit - firstBit) / 8, 0, bytes.Length);
        long count = 0;
        int i = 0;
        for (; i + 8 <= wholeBytes; i += 8)
        {
            count += BitOperations.PopCount(BitConverter.ToUInt64(bytes.Slice(i, 8)));
        }

        for (; i < wholeBytes; i++)
        {
            count += BitOperations.PopCount(bytes[i]);
        }

        long remainingBits = bitLimit - (firstBit + (wholeBytes * 8));
        if (wholeBytes < bytes.Length && remainingBits is > 0 and < 8)
        {
            count += BitOperations.PopCount((uint)(bytes[(int)wholeBytes] & ((1 << (int)remainingBits) - 1)));
        }

        return count;
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "NTFS: " + message);

    /// <summary>Receives <paramref name="chunk"/>, whose first bit is bitmap bit <paramref name="firstBit"/>; only its first <paramref name="bitCount"/> bits are clusters of the volume.</summary>
    private delegate void BitmapChunkHandler(ReadOnlySpan<byte> chunk, long firstBit, long bitCount);

    /// <summary>Cluster-level access to one NTFS volume.</summary>
    private sealed class Volume(DiskReader reader, long offset, NtfsBootSector boot)
    {
        public NtfsBootSector Boot { get; } = boot;

        /// <summary>The data runs of $MFT, from the $DATA attribute of record 0 (read at the boot sector's MFT cluster).</summary>
        public List<NtfsDataRun> MftRuns()
        {
            var record = new byte[Boot.MftRecordSize];
            reader.ReadAt(offset + (Boot.MftLcn * Boot.ClusterSize), record);
            NtfsAttribute data = NtfsFileRecord.ReadFrom(record).Find(NtfsAttribute.TypeData)
                ?? throw Corrupt("$MFT has no unnamed $DATA attribute.");
            if (!data.IsNonResident || data.StartVcn != 0)
            {
                throw Corrupt("$MFT's $DATA is not a non-resident attribute starting at VCN 0.");
            }

            return NtfsDataRun.Decode(data.MappingPairs, Boot.TotalClusters);
        }

        public NtfsFileRecord ReadRecord(List<NtfsDataRun> mftRuns, int number)
        {
            var record = new byte[Boot.MftRecordSize];
            ReadData(mftRuns, (long)number * Boot.MftRecordSize, record);
            return NtfsFileRecord.ReadFrom(record);
        }

        /// <summary>Reads <paramref name="destination"/>.Length bytes at byte <paramref name="position"/> of an attribute described by <paramref name="runs"/>.</summary>
        public void ReadData(List<NtfsDataRun> runs, long position, Span<byte> destination)
        {
            long clusterSize = Boot.ClusterSize;
            long runStart = 0; // byte position of the current run within the attribute
            foreach (NtfsDataRun run in runs)
            {
                if (destination.IsEmpty)
                {
                    return;
                }

                long runBytes = run.ClusterCount * clusterSize;
                if (position < runStart + runBytes)
                {
                    long within = position - runStart;
                    int n = (int)Math.Min(destination.Length, runBytes - within);
                    if (run.IsSparse)
                    {
                        destination[..n].Clear();
                    }
                    else
                    {
                        reader.ReadAt(offset + (run.Lcn * clusterSize) + within, destination[..n]);
                    }

                    destination = destination[n..];
                    position += n;
                }

                runStart += runBytes;
            }

            if (!destination.IsEmpty)
            {
                throw Corrupt($"the data runs end before byte {position}.");
            }
        }
    }
}
