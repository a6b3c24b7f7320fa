using Smc.Agent.Platform.Live;
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

    /// <summary>The disk's mounted file systems (null for an image file or an unmounted disk): they change while read.</summary>
    public LiveDisk? Live { get; private init; }

    /// <summary>How each part of the disk was planned, for the log and the round's record (e.g. a whole copy and why).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Mount points whose used blocks came from the kernel's space map (GETFSMAP), not the whole volume.</summary>
    public IReadOnlySet<string> KernelMapped { get; private init; } = new HashSet<string>();

    /// <summary>Mounted LVM logical volumes on this disk by device-mapper uuid: their PV's offset on the disk and their segments.</summary>
    public IReadOnlyDictionary<string, (long PvStart, LvmVolume Volume)> LogicalVolumes { get; private init; } = new Dictionary<string, (long, LvmVolume)>();

    /// <summary>Bounds of each region group (the head, each partition, or the whole disk): a catch-up never reads past them.</summary>
    private List<(int Group, long Start, long End, bool HeaderOnly)> _groups = [];

    public static DiskPlan Build(int index, string device, int chunkSize, LiveDisk? live = null)
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
        var groups = new List<(int, long, long, bool)>();
        var notes = new List<string>();
        var kernelMapped = new HashSet<string>(StringComparer.Ordinal);
        var logicalVolumes = new Dictionary<string, (long, LvmVolume)>(StringComparer.Ordinal);
        if (info.PartitionTable == "none")
        {
            PartitionInfo? whole = info.Parts.FirstOrDefault();
            AddExtents(regions, notes, 0, reader, 0, size, whole?.FileSystem, [.. live?.Volumes.Where(v => v.Start == 0) ?? []], "the disk", kernelMapped, logicalVolumes);
            groups.Add((0, 0, size, whole?.FileSystem == "swap"));
        }
        else
        {
            long firstStart = info.Parts.Count == 0 ? size : info.Parts.Min(p => p.StartBytes);
            regions.Add((-1, 0, Math.Min(firstStart, size)));
            groups.Add((-1, 0, Math.Min(firstStart, size), false));
            bounds.Add(Math.Min(firstStart, size));
            foreach (PartitionInfo part in info.Parts.Where(p => p.CanBlock && p.SizeBytes > 0).OrderBy(p => p.StartBytes))
            {
                bounds.Add(part.StartBytes);
                bounds.Add(part.StartBytes + part.SizeBytes);
                AddExtents(regions, notes, part.Number, reader, part.StartBytes, part.SizeBytes, part.FileSystem,
                    [.. live?.Volumes.Where(v => v.Start == part.StartBytes) ?? []], $"partition {part.Number}", kernelMapped, logicalVolumes);
                groups.Add((part.Number, part.StartBytes, Math.Min(size, part.StartBytes + part.SizeBytes), part.FileSystem == "swap"));
            }
        }

        List<(int, long, long)> sorted = Coalesce([.. regions.Where(r => r.Length > 0).OrderBy(r => r.Start)], chunkSize);
        var plan = new DiskPlan
        {
            Index = index,
            Device = device,
            Info = info,
            SizeBytes = size,
            Live = live is { Volumes.Count: > 0 } ? live : null,
            PlannedBytes = Cut(index, sorted, chunkSize, size).Sum(c => (long)c.Length),
            _regions = sorted,
            _chunkSize = chunkSize,
            _sharedCells = [.. bounds.Where(b => b % chunkSize != 0).Select(b => b / chunkSize)],
            _groups = groups,
            KernelMapped = kernelMapped,
            LogicalVolumes = logicalVolumes,
        };
        plan.Notes.AddRange(notes);
        return plan;
    }

    private static void AddExtents(List<(int, long, long)> regions, List<string> notes, int group, DiskReader reader, long start, long length, string? fileSystem,
        List<LiveVolume> mountedHere, string what, HashSet<string> kernelMapped, Dictionary<string, (long PvStart, LvmVolume Volume)> logicalVolumes)
    {
        IReadOnlyList<ByteExtent>? used = null;
        LiveVolume? mounted = mountedHere.FirstOrDefault(v => !v.Stacked);
        List<LiveVolume> stacked = [.. mountedHere.Where(v => v.Stacked)];
        if (stacked.Count > 0 && fileSystem == "lvm2" && stacked.All(v => v.DmUuid?.StartsWith("LVM-", StringComparison.Ordinal) == true))
        {
            // Logical volumes of this PV are mounted: each one's space map from the kernel (in the LV's offsets), carried
            // through its segments by the PV's metadata; the other LVs by their own maps.
            var maps = new Dictionary<string, IReadOnlyList<ByteExtent>?>(StringComparer.Ordinal);
            foreach (LiveVolume lv in stacked)
            {
                maps[lv.DmUuid!] = FsMap.UsedExtents(lv.MountPoint, lv.Device, lv.StackedBytes);
            }

            try
            {
                used = AllocationMaps.UsedExtents(reader, start, length, fileSystem, maps);
                if (used is not null && LvmMetadata.Read(reader, start, length) is { } meta)
                {
                    foreach (LvmVolume v in meta.Volumes.Where(v => v.Mapped && maps.ContainsKey(meta.DeviceMapperUuid(v))))
                    {
                        logicalVolumes[meta.DeviceMapperUuid(v)] = (start, v);
                    }
                }
            }
            catch (DiskFormatException)
            {
                // Metadata we can't trust: the whole partition.
            }

            if (used is not null)
            {
                foreach (LiveVolume lv in stacked)
                {
                    bool fromKernel = maps[lv.DmUuid!] is not null;
                    notes.Add(fromKernel
                        ? $"{what}: {lv.FileSystem} mounted on {lv.MountPoint} in an LVM logical volume: used blocks from the kernel (GETFSMAP), through the volume's segments"
                        : $"{what}: {lv.FileSystem} mounted on {lv.MountPoint} in an LVM logical volume has no kernel space map (GETFSMAP); that volume copied whole");
                    if (fromKernel)
                    {
                        kernelMapped.Add(lv.MountPoint);
                    }
                }
            }
            else
            {
                notes.Add($"{what}: the LVM metadata doesn't map its mounted logical volumes (striped, mirrored, thin, or on several PVs); copied whole");
            }
        }
        else if (stacked.Count > 0)
        {
            // A device stacked on it that the PV's metadata doesn't map (dm-crypt, an LV inside it): its space map is in
            // another device's terms, so the partition is copied whole (and frozen with the others).
            notes.Add($"{what}: holds {stacked[0].FileSystem} mounted on {stacked[0].MountPoint} through device-mapper; copied whole");
        }
        else if (mounted is not null && fileSystem != "swap")
        {
            // Mounted: the on-disk bitmaps lag behind the journal, so ask the kernel; without GETFSMAP, copy it whole.
            used = FsMap.UsedExtents(mounted.MountPoint, mounted.Device, length);
            notes.Add(used is null
                ? $"{what}: {mounted.FileSystem} mounted on {mounted.MountPoint} has no kernel space map (GETFSMAP); copied whole"
                : $"{what}: {mounted.FileSystem} mounted on {mounted.MountPoint}: used blocks from the kernel (GETFSMAP)");
            if (used is not null)
            {
                kernelMapped.Add(mounted.MountPoint);
            }

            used = used?.Where(e => e.Start < length).Select(e => new ByteExtent(e.Start, Math.Min(e.Length, length - e.Start))).ToList();
        }
        else
        {
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
                notes.Add($"{what}: {fileSystem ?? "unknown content"}: no allocation map this agent reads; copied whole");
            }
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
    /// The chunks a catch-up reads for cells written since they were read: per written cell and region group, the span from
    /// the lower of the planned piece's and the written range's start to the higher of their ends, within the group (so it
    /// covers, and replaces, the chunk read before). Swap (header only) is re-read only where the header was written.
    /// </summary>
    public IEnumerable<ChunkRange> CatchUp(IReadOnlyDictionary<long, (int Lo, int Hi)> written)
    {
        foreach ((long cell, (int lo, int hi)) in written.OrderBy(kv => kv.Key))
        {
            long cellStart = cell * _chunkSize, cellEnd = Math.Min(SizeBytes, cellStart + _chunkSize);
            foreach ((int group, long gStart, long gEnd, bool headerOnly) in _groups)
            {
                long s = Math.Max(cellStart, gStart), e = Math.Min(cellEnd, gEnd);
                if (s >= e)
                {
                    continue;
                }

                (long pStart, long pEnd)? piece = PlannedPiece(group, s, e);
                long wStart = Math.Max(s, cellStart + lo), wEnd = Math.Min(e, cellStart + hi);
                bool writtenHere = wStart < wEnd;
                long from, to;
                if (headerOnly)
                {
                    if (piece is not var (ps, pe) || !writtenHere || wEnd <= ps || wStart >= pe)
                    {
                        continue;
                    }

                    (from, to) = (ps, pe);
                }
                else if (writtenHere)
                {
                    (from, to) = piece is var (ps, pe) ? (Math.Min(ps, wStart), Math.Max(pe, wEnd)) : (wStart, wEnd);
                }
                else
                {
                    continue;
                }

                from = Math.Max(s, from / 512 * 512);
                to = Math.Min(e, (to + 511) / 512 * 512);
                if (to > from)
                {
                    yield return new ChunkRange(Index, from, (int)(to - from));
                }
            }
        }
    }

    /// <summary>The piece of a cell (between <paramref name="s"/> and <paramref name="e"/>) the plan reads for a group, as <see cref="Cut"/> makes it.</summary>
    private (long Start, long End)? PlannedPiece(int group, long s, long e)
    {
        int lo = 0, hi = _regions.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (_regions[mid].Start + _regions[mid].Length <= s)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        long first = long.MaxValue, last = long.MinValue;
        for (int i = Math.Max(0, lo - 1); i < _regions.Count && _regions[i].Start < e; i++)
        {
            (int g, long start, long length) = _regions[i];
            if (g != group || start + length <= s)
            {
                continue;
            }

            first = Math.Min(first, Math.Max(s, start / 512 * 512));
            last = Math.Max(last, Math.Min(e, (start + length + 511) / 512 * 512));
        }

        return first < last ? (first, last) : null;
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
