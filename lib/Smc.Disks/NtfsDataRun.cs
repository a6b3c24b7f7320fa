namespace Smc.Disks;

/// <summary>One decoded NTFS data run: <see cref="ClusterCount"/> clusters starting at <see cref="Lcn"/>, or a sparse hole.</summary>
internal readonly record struct NtfsDataRun(long Lcn, long ClusterCount, bool IsSparse)
{
    /// <summary>Most runs decoded from one attribute; more is treated as corrupt.</summary>
    public const int MaxRuns = 65536;

    /// <summary>
    /// Decodes a mapping-pairs array. Each run starts with a header byte whose low nibble is the size of the length field
    /// and whose high nibble is the size of the signed LCN delta (0 = sparse); a zero header ends the list.
    /// </summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> for a malformed list or a run outside the volume.</exception>
    public static List<NtfsDataRun> Decode(ReadOnlySpan<byte> mappingPairs, long totalClusters)
    {
        var runs = new List<NtfsDataRun>();
        long lcn = 0;
        int pos = 0;
        while (pos < mappingPairs.Length && mappingPairs[pos] != 0)
        {
            if (runs.Count >= MaxRuns)
            {
                throw Corrupt($"more than {MaxRuns} data runs.");
            }

            int lengthSize = mappingPairs[pos] & 0x0F;
            int offsetSize = mappingPairs[pos] >> 4;
            pos++;
            if (lengthSize is 0 or > 8 || offsetSize > 8 || mappingPairs.Length - pos < lengthSize + offsetSize)
            {
                throw Corrupt("a data run header is malformed or runs past the attribute.");
            }

            long length = ReadSigned(mappingPairs.Slice(pos, lengthSize));
            pos += lengthSize;
            if (length <= 0 || length > totalClusters)
            {
                throw Corrupt($"a data run of {length} clusters is invalid.");
            }

            if (offsetSize == 0)
            {
                runs.Add(new NtfsDataRun(0, length, IsSparse: true));
                continue;
            }

            long delta = ReadSigned(mappingPairs.Slice(pos, offsetSize));
            pos += offsetSize;
            if (delta < -totalClusters || delta > totalClusters)
            {
                throw Corrupt($"a data run LCN delta of {delta} leaves the volume.");
            }

            lcn += delta;
            if (lcn < 0 || lcn > totalClusters - length)
            {
                throw Corrupt($"a data run at LCN {lcn} of {length} clusters leaves the volume ({totalClusters} clusters).");
            }

            runs.Add(new NtfsDataRun(lcn, length, IsSparse: false));
        }

        return runs;
    }

    /// <summary>Little-endian two's complement integer of 1–8 bytes.</summary>
    private static long ReadSigned(ReadOnlySpan<byte> bytes)
    {
        long value = 0;
        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            value = (value << 8) | bytes[i];
        }

        if (bytes.Length < 8 && (bytes[^1] & 0x80) != 0)
        {
            value |= -1L << (bytes.Length * 8);
        }

        return value;
    }

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "NTFS run list: " + message);
}
