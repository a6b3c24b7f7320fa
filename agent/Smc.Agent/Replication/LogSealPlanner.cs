using Smc.Agent.Platform.Live;
using Smc.Disks;

namespace Smc.Agent.Replication;

/// <summary>Where the seal of each frozen XFS goes on its disk (<see cref="XfsLog.PlanSeal"/>, mapped through partitions and LVs).</summary>
internal static class LogSealPlanner
{
    /// <summary>
    /// The unmount record and exact superblock counters for each frozen XFS (read from the devices under the freeze), in
    /// disk offsets; a volume that can't be sealed says why (its image then has a covered log: mountable after a replay).
    /// </summary>
    internal static List<LogSealPlan> Plan(List<DiskPlan> plans, List<LiveVolume> frozen, SourceReaders readers)
    {
        var seals = new List<LogSealPlan>();
        foreach (LiveVolume v in frozen.Where(v => v.FileSystem == "xfs"))
        {
            DiskPlan plan = plans.First(p => p.Live is { } l && l.Volumes.Contains(v));
            int disk = plan.Index;

            // Where the file system's bytes are on the disk: after its partition's start, or through its LV's segments.
            Func<long, long, IReadOnlyList<(long DiskOffset, long At, long Length)>?> map;
            long size;
            if (!v.Stacked)
            {
                (map, size) = ((offset, length) => [(v.Start + offset, 0, length)], v.Length);
            }
            else if (v.DmUuid is { } uuid && plan.LogicalVolumes.TryGetValue(uuid, out var lv))
            {
                (map, size) = ((offset, length) => lv.Volume.MapRange(offset, length)?.Select(p => (lv.PvStart + p.PvOffset, p.At, p.Length)).ToList(), lv.Volume.SizeBytes);
            }
            else
            {
                seals.Add(new LogSealPlan(v, disk, [], "it is on a stacked device the LVM metadata doesn't map"));
                continue;
            }

            try
            {
                LogSeal seal = XfsLog.PlanSeal((offset, buffer) =>
                {
                    if (offset < 0 || offset + buffer.Length > size || map(offset, buffer.Length) is not { } pieces)
                    {
                        throw new InvalidDataException($"a read at byte {offset} is outside the file system");
                    }

                    foreach ((long diskOffset, long at, long length) in pieces)
                    {
                        readers.ReadAt(disk, diskOffset, buffer.Slice((int)at, (int)length));
                    }
                });
                var writes = new List<LogSealWrite>();
                foreach (LogSealWrite w in seal.Writes)
                {
                    foreach ((long diskOffset, long at, long length) in map(w.Offset, w.Bytes.Length) ?? throw new InvalidDataException($"a write at byte {w.Offset} is outside the file system"))
                    {
                        writes.Add(new LogSealWrite(diskOffset, w.Bytes[(int)at..(int)(at + length)]));
                    }
                }

                seals.Add(new LogSealPlan(v, disk, writes, seal.NotSealed));
            }
            catch (Exception e) when (e is InvalidDataException or AgentException or OverflowException)
            {
                seals.Add(new LogSealPlan(v, disk, [], e.Message));
            }
        }

        return seals;
    }
}

/// <summary>A frozen XFS's seal: writes in disk offsets, or why none.</summary>
internal sealed record LogSealPlan(LiveVolume Volume, int Disk, IReadOnlyList<LogSealWrite> Writes, string? NotSealed);
