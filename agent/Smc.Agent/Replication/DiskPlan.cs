using Smc.Disks;
using Smc.Wire.Inventory;

namespace Smc.Agent.Replication;

/// <summary>
/// What to read of one source disk: the head (boot code and partition table, everything before the first
/// partition) and, per partition, the extents its file system marks used (the whole partition when the
/// file system is unknown; swap: its header only). Gaps between partitions and the GPT backup area are
/// not sent: the assembler writes fresh tables. Chunks lie on a 1 MiB grid; within a cell the used pieces of
/// one region are coalesced into one chunk, so fragmented bitmaps don't make thousands of tiny chunks.
/// </summary>
internal sealed class DiskPlan
{
    public required int Index { get; init; }

    public required string Device { get; init; }

    public required DiskInfo Info { get; init; }

    public required long SizeBytes { get; init; }

    /// <summary>The chunks to read, in disk order, cut from the used regions as they are enumerated (never all in memory).</summary>
    public IEnumerable<ChunkRange> Chunks => Cut(Index, _regions, _chunkSize, SizeBytes);

    /// <summary>Bytes of all <see cref="Chunks"/>.</summary>
    public long PlannedBytes { get; private init; }

    private List<(int Group, long Start, long Length)> _regions = [];
    private HashSet<long> _sharedCells = [];
    private int _chunkSize;

    /// <summary>
    /// Whether the grid cell may hold more than one chunk: a cell a partition (or the head before the first one) starts or
    /// ends inside. Everywhere else a cell holds at most one chunk, so a cell number names it.
    /// </summary>
    public bool IsSharedCell(long cell) => _sharedCells.Contains(cell);

    public static DiskPlan Build(int index, string device, int chunkSize)
    {
        using DiskReader reader = DiskReader.Open(device);
        DiskInfo info = DiskInspector.Inspect(reader, device);
        long size = reader.Length;
        if (size % 512 != 0)
        {
            throw new AgentException(ExitCodes.DiskError, $"{device}: its size ({size} bytes) is not a whole number of 512-byte sectors.");
        }

        var regions = new List<(int Group, long Start, long Length)>();
        var bounds = new List<long>();
        if (info.PartitionTable == "none")
        {
            PartitionInfo? whole = info.Parts.FirstOrDefault();
            AddExtents(regions, 0, reader, 0, size, whole?.FileSystem);
        }
        else
        {
            long firstStart = info.Parts.Count == 0 ? size : info.Parts.Min(p => p.StartBytes);
            regions.Add((-1, 0, Math.Min(firstStart, size)));
            bounds.Add(Math.Min(firstStart, size));
            foreach (PartitionInfo part in info.Parts.Where(p => p.CanBlock && p.SizeBytes > 0).OrderBy(p => p.StartBytes))
            {
                bounds.Add(part.StartBytes);
                bounds.Add(part.StartBytes + part.SizeBytes);
                AddExtents(regions, part.Number, reader, part.StartBytes, part.SizeBytes, part.FileSystem);
            }
        }

        List<(int, long, long)> sorted = Coalesce([.. regions.Where(r => r.Length > 0).OrderBy(r => r.Start)], chunkSize);
        return new DiskPlan
        {
            Index = index,
            Device = device,
            Info = info,
            SizeBytes = size,
            PlannedBytes = Cut(index, sorted, chunkSize, size).Sum(c => (long)c.Length),
            _regions = sorted,
            _chunkSize = chunkSize,
            _sharedCells = [.. bounds.Where(b => b % chunkSize != 0).Select(b => b / chunkSize)],
        };
    }

    private static void AddExtents(List<(int, long, long)> regions, int group, DiskReader reader, long start, long length, string? fileSystem)
    {
        IReadOnlyList<ByteExtent>? used = null;
        try
        {
            used = AllocationMaps.UsedExtents(reader, start, length, fileSystem);
        }
        catch (DiskFormatException)
        {
            // An allocation map we can't trust: copy the whole partition.
        }

        if (used is null)
        {
            regions.Add((group, start, length));
            return;
        }

        foreach (ByteExtent e in used)
        {
            regions.Add((group, start + e.Start, e.Length));
        }
    }

    /// <summary>
    /// Merges regions (sorted by start) of one group that reach into the same grid cell: <see cref="Cut"/> coalesces their
    /// pieces of that cell into one chunk anyway, so the plan keeps at most one region per run of touched cells instead
    /// of one per extent of a fragmented bitmap (up to a million per partition).
    /// </summary>
    internal static List<(int Group, long Start, long Length)> Coalesce(List<(int Group, long Start, long Length)> sorted, int chunkSize)
    {
        var merged = new List<(int Group, long Start, long Length)>();
        foreach ((int group, long start, long length) in sorted)
        {
            if (merged.Count > 0 && merged[^1] is var (g, s, l) && g == group && start / chunkSize <= (s + l - 1) / chunkSize)
            {
                merged[^1] = (g, s, Math.Max(s + l, start + length) - s);
            }
            else
            {
                merged.Add((group, start, length));
            }
        }

        merged.TrimExcess();
        return merged;
    }

    /// <summary>Cuts regions on the chunk grid, sector-aligned, coalescing pieces that share a cell and a region group (a partition).</summary>
    internal static IEnumerable<ChunkRange> Cut(int disk, List<(int Group, long Start, long Length)> regions /* by start */, int chunkSize, long diskSize)
    {
        bool open = false;
        int group = 0;
        long cell = 0, pieceStart = 0, pieceEnd = 0;
        foreach ((int g, long start, long length) in regions)
        {
            long s = Math.Max(start / 512 * 512, open ? Math.Min(pieceEnd, (start + length + 511) / 512 * 512) : 0);
            long end = Math.Min(diskSize, (start + length + 511) / 512 * 512);
            while (s < end)
            {
                long c = s / chunkSize * chunkSize;
                long e = Math.Min(end, c + chunkSize);
                if (open && g == group && c == cell)
                {
                    pieceEnd = Math.Max(pieceEnd, e);
                }
                else
                {
                    if (open)
                    {
                        yield return new ChunkRange(disk, pieceStart, (int)(pieceEnd - pieceStart));
                    }

                    (open, group, cell, pieceStart, pieceEnd) = (true, g, c, s, e);
                }

                s = e;
            }
        }

        if (open)
        {
            yield return new ChunkRange(disk, pieceStart, (int)(pieceEnd - pieceStart));
        }
    }
}
