namespace Smc.Disks;

/// <summary>
/// Used space of an LVM2 physical volume: its label and metadata (everything before the first extent), and per logical
/// volume the blocks its file system uses, read through the LV's segments and carried back onto the PV. Free extents
/// are not used. A PV whose metadata this reader can't map (an LV striped, mirrored, thin, or partly on another PV; no
/// metadata area on this PV) gives null: the caller copies it whole.
/// </summary>
/// <remarks>
/// An LV whose file system is mounted (on a running source, through device-mapper) has on-disk bitmaps that lag its
/// journal: the caller passes what the kernel says it uses instead, keyed by the device-mapper uuid of the LV
/// (<see cref="LvmMetadata.DeviceMapperUuid"/>), in the LV's byte offsets; a null list there copies that LV whole.
/// </remarks>
internal static class LvmVolumes
{
    public static IReadOnlyList<ByteExtent>? UsedExtents(DiskReader reader, long pvStart, long pvSize, IReadOnlyDictionary<string, IReadOnlyList<ByteExtent>?>? mounted = null)
    {
        LvmMetadata? meta = LvmMetadata.Read(reader, pvStart, pvSize);
        if (meta is null || meta.Volumes.Any(v => !v.Mapped) || meta.FirstExtentBytes > pvSize)
        {
            return null;
        }

        var used = new List<ByteExtent> { new(0, meta.FirstExtentBytes) };
        foreach (LvmVolume lv in meta.Volumes)
        {
            if (lv.Segments.Any(s => s.PhysicalStart < 0 || s.Length <= 0 || s.PhysicalStart > pvSize - s.Length))
            {
                return null; // metadata that points past the PV: don't trust any of it
            }

            IReadOnlyList<ByteExtent>? inLv = null;
            if (mounted is not null && mounted.TryGetValue(meta.DeviceMapperUuid(lv), out IReadOnlyList<ByteExtent>? fromKernel))
            {
                inLv = fromKernel?.Where(e => e.Start >= 0 && e.Length > 0 && e.Start < lv.SizeBytes)
                    .Select(e => new ByteExtent(e.Start, Math.Min(e.Length, lv.SizeBytes - e.Start))).ToList();
            }
            else
            {
                inLv = OnDisk(reader, pvStart, lv);
            }

            foreach (ByteExtent e in inLv ?? [new ByteExtent(0, lv.SizeBytes)])
            {
                foreach (LvmSegment s in lv.Segments)
                {
                    long from = Math.Max(e.Start, s.LogicalStart), to = Math.Min(e.Start + e.Length, s.LogicalStart + s.Length);
                    if (from < to)
                    {
                        used.Add(new ByteExtent(s.PhysicalStart + (from - s.LogicalStart), to - from));
                    }
                }
            }
        }

        var merged = new List<ByteExtent>();
        foreach (ByteExtent e in used.Where(e => e.Length > 0).OrderBy(e => e.Start))
        {
            if (merged.Count > 0 && merged[^1].Start + merged[^1].Length >= e.Start)
            {
                ByteExtent last = merged[^1];
                merged[^1] = new ByteExtent(last.Start, Math.Max(last.Start + last.Length, e.Start + e.Length) - last.Start);
            }
            else
            {
                merged.Add(e);
            }
        }

        return merged;
    }

    /// <summary>What the LV's file system uses by its own allocation maps (null: unknown content, or a map not safe to read: the whole LV).</summary>
    private static IReadOnlyList<ByteExtent>? OnDisk(DiskReader reader, long pvStart, LvmVolume lv)
    {
        try
        {
            using var view = new DiskReader(new LogicalVolumeStream(reader, pvStart, lv), leaveOpen: false);
            string? type = FileSystemProbe.Detect(view, 0, lv.SizeBytes)?.Type;
            return type is null or "lvm2" ? null : AllocationMaps.UsedExtents(view, 0, lv.SizeBytes, type);
        }
        catch (DiskFormatException)
        {
            return null;
        }
    }

    /// <summary>A logical volume read through its segments on the PV (read-only, seekable): what device-mapper would show.</summary>
    private sealed class LogicalVolumeStream(DiskReader pv, long pvStart, LvmVolume lv) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => lv.SizeBytes;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int done = 0;
            while (done < buffer.Length && Position < Length)
            {
                LvmSegment? s = lv.Segments.FirstOrDefault(x => x.LogicalStart <= Position && Position < x.LogicalStart + x.Length);
                int n;
                if (s is null)
                {
                    // A hole in the LV's extents (not in metadata the tools write): reads as zero up to the next segment.
                    long next = lv.Segments.Where(x => x.LogicalStart > Position).Select(x => x.LogicalStart).DefaultIfEmpty(Length).Min();
                    n = (int)Math.Min(buffer.Length - done, next - Position);
                    buffer.Slice(done, n).Clear();
                }
                else
                {
                    n = (int)Math.Min(buffer.Length - done, s.LogicalStart + s.Length - Position);
                    pv.ReadAt(pvStart + s.PhysicalStart + (Position - s.LogicalStart), buffer.Slice(done, n));
                }

                done += n;
                Position += n;
            }

            return done;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
