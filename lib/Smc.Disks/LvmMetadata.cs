using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Smc.Disks;

/// <summary>One segment of a logical volume that lies on a known physical volume as one run of extents (a linear LV piece).</summary>
/// <param name="LogicalStart">Byte offset of the segment within the LV.</param>
/// <param name="PhysicalStart">Byte offset of its first extent from the start of the PV.</param>
public sealed record LvmSegment(long LogicalStart, long PhysicalStart, long Length);

/// <summary>A logical volume as the PV's metadata describes it: its segments on this PV, or none that this reader maps.</summary>
/// <param name="Mapped">Every segment of the LV is linear ("striped" with one stripe) and on this PV.</param>
/// <param name="Id">The LV's uuid as the metadata writes it (with dashes); empty when the metadata has none.</param>
public sealed record LvmVolume(string Name, long SizeBytes, IReadOnlyList<LvmSegment> Segments, bool Mapped, string Id = "")
{
    /// <summary>
    /// Where the LV's bytes [<paramref name="offset"/>, +<paramref name="length"/>) lie on the PV: one piece per segment
    /// crossed (<c>PvOffset</c> from the PV's start, <c>At</c> the piece's offset within the range); null when part of the
    /// range is in no segment on this PV.
    /// </summary>
    public IReadOnlyList<(long PvOffset, long At, long Length)>? MapRange(long offset, long length)
    {
        var pieces = new List<(long, long, long)>();
        long at = offset;
        foreach (LvmSegment s in Segments.OrderBy(s => s.LogicalStart))
        {
            if (at >= offset + length)
            {
                break;
            }

            if (s.LogicalStart + s.Length <= at)
            {
                continue;
            }

            if (s.LogicalStart > at)
            {
                return null;
            }

            long n = Math.Min(offset + length, s.LogicalStart + s.Length) - at;
            pieces.Add((s.PhysicalStart + (at - s.LogicalStart), at - offset, n));
            at += n;
        }

        return at >= offset + length ? pieces : null;
    }
}

/// <summary>
/// The LVM2 text metadata of a physical volume (format "lvm2", as the LVM tools write it): the PV header after the label
/// names its metadata area, whose header (<c>mda_header</c>, magic <c> LVM2 x[5A%r0N*&gt;</c>) points at the current copy
/// of the volume group's text in a circular buffer. From it: the extent size, this PV's first extent and extent count,
/// and each logical volume's segments. Reading only, from bytes; no device-mapper.
/// </summary>
public sealed class LvmMetadata
{
    private static readonly byte[] MdaMagic = Encoding.ASCII.GetBytes(" LVM2 x[5A%r0N*>");

    /// <summary>Longest metadata text read (LVM's own default metadata area is 1 MiB).</summary>
    private const int MaxText = 4 << 20;

    public required string VolumeGroup { get; init; }

    /// <summary>The volume group's uuid as the metadata writes it (with dashes).</summary>
    public string VolumeGroupId { get; init; } = "";

    /// <summary>
    /// The uuid device-mapper knows an active LV by (<c>/sys/class/block/dm-N/dm/uuid</c>): <c>LVM-</c>, then the VG's and
    /// the LV's uuids without their dashes.
    /// </summary>
    public string DeviceMapperUuid(LvmVolume lv) => "LVM-" + VolumeGroupId.Replace("-", "", StringComparison.Ordinal) + lv.Id.Replace("-", "", StringComparison.Ordinal);

    public long ExtentBytes { get; init; }

    /// <summary>Byte offset of this PV's first extent from the start of the PV.</summary>
    public long FirstExtentBytes { get; init; }

    public long ExtentCount { get; init; }

    public IReadOnlyList<LvmVolume> Volumes { get; init; } = [];

    /// <summary>Reads the metadata of the PV at <paramref name="pvStart"/>; null when there is no label or no metadata area on it.</summary>
    /// <exception cref="DiskFormatException"><see cref="DiskErrorCodes.CorruptFileSystem"/> for a label, header or text that doesn't read.</exception>
    public static LvmMetadata? Read(DiskReader reader, long pvStart, long pvSize)
    {
        byte[] head = reader.ReadBytes(pvStart, (int)Math.Min(pvSize, 4 * LvmPvLabel.SectorSize));
        if (LvmPvLabel.ReadFrom(head) is not { } label)
        {
            return null;
        }

        int sector = Enumerable.Range(0, LvmPvLabel.ScanSectors).First(i => head.AsSpan(i * LvmPvLabel.SectorSize, 8).SequenceEqual("LABELONE"u8));
        ReadOnlySpan<byte> s = head.AsSpan(sector * LvmPvLabel.SectorSize, LvmPvLabel.SectorSize);
        int at = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[20..]) + LvmPvLabel.UuidLength + 8; // uuid, device size
        // Data areas, then metadata areas: (offset, size) pairs, each list ended by a zero pair.
        while (at + 16 <= s.Length && BinaryPrimitives.ReadUInt64LittleEndian(s[at..]) != 0)
        {
            at += 16;
        }

        at += 16;
        if (at + 16 > s.Length)
        {
            throw Corrupt("the PV header's area lists run past its sector");
        }

        long mdaOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);
        long mdaSize = (long)BinaryPrimitives.ReadUInt64LittleEndian(s[(at + 8)..]);
        if (mdaOffset == 0)
        {
            return null; // a PV without a metadata area: its VG's text is on another PV
        }

        if (mdaOffset < 0 || mdaSize < 1024 || mdaOffset > pvSize - mdaSize)
        {
            throw Corrupt($"metadata area at {mdaOffset} of {mdaSize} bytes is outside the PV");
        }

        byte[] mda = reader.ReadBytes(pvStart + mdaOffset, 512);
        if (!mda.AsSpan(4, 16).SequenceEqual(MdaMagic))
        {
            throw Corrupt("the metadata area header has no LVM2 magic");
        }

        long textOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(mda.AsSpan(40));
        long textSize = (long)BinaryPrimitives.ReadUInt64LittleEndian(mda.AsSpan(48));
        if (textOffset == 0 || textSize <= 0 || textSize > Math.Min(MaxText, mdaSize) || textOffset < 512 || textOffset >= mdaSize)
        {
            throw Corrupt("the metadata area names no current metadata, or metadata of an impossible size");
        }

        // A circular buffer after the 512-byte header: text that reaches the end goes on right after the header.
        byte[] text = new byte[textSize];
        long first = Math.Min(textSize, mdaSize - textOffset);
        reader.ReadAt(pvStart + mdaOffset + textOffset, text.AsSpan(0, (int)first));
        if (first < textSize)
        {
            reader.ReadAt(pvStart + mdaOffset + 512, text.AsSpan((int)first));
        }

        return FromText(Encoding.UTF8.GetString(text).TrimEnd('\0'), label.Uuid);
    }

    /// <summary>The layout of PV <paramref name="pvUuid"/> in a volume group's metadata text.</summary>
    public static LvmMetadata FromText(string text, string pvUuid)
    {
        Dictionary<string, object> root = new ConfigParser(text).ParseSection(topLevel: true);
        (string vgName, Dictionary<string, object> vg) = root.Where(kv => kv.Value is Dictionary<string, object>).Select(kv => (kv.Key, (Dictionary<string, object>)kv.Value)).FirstOrDefault();
        if (vg is null)
        {
            throw Corrupt("the metadata has no volume group section");
        }

        long extent = Number(vg, "extent_size") * 512;
        if (extent <= 0)
        {
            throw Corrupt("the volume group has no extent size");
        }

        var pvs = Section(vg, "physical_volumes");
        (string pvName, Dictionary<string, object> pv) = pvs.Where(kv => kv.Value is Dictionary<string, object> d && d.GetValueOrDefault("id") as string == pvUuid)
            .Select(kv => (kv.Key, (Dictionary<string, object>)kv.Value)).FirstOrDefault();
        if (pv is null)
        {
            throw Corrupt($"the volume group {vgName} doesn't list this PV ({pvUuid})");
        }

        long firstExtent = Number(pv, "pe_start") * 512;
        var volumes = new List<LvmVolume>();
        foreach ((string name, object value) in vg.TryGetValue("logical_volumes", out object? lvs) && lvs is Dictionary<string, object> lvSection ? lvSection : [])
        {
            if (value is not Dictionary<string, object> lv)
            {
                continue;
            }

            var segments = new List<LvmSegment>();
            bool mapped = true;
            long size = 0;
            foreach (Dictionary<string, object> seg in lv.Where(kv => kv.Key.StartsWith("segment", StringComparison.Ordinal) && kv.Value is Dictionary<string, object>).Select(kv => (Dictionary<string, object>)kv.Value))
            {
                long start = Number(seg, "start_extent") * extent, length = Number(seg, "extent_count") * extent;
                size = Math.Max(size, start + length);
                if (seg.GetValueOrDefault("type") as string == "striped" && Number(seg, "stripe_count") == 1
                    && seg.GetValueOrDefault("stripes") is List<object> { Count: 2 } stripes && stripes[0] as string == pvName && stripes[1] is long pe)
                {
                    segments.Add(new LvmSegment(start, firstExtent + (pe * extent), length));
                }
                else
                {
                    mapped = false;
                }
            }

            volumes.Add(new LvmVolume(name, size, [.. segments.OrderBy(x => x.LogicalStart)], mapped && segments.Count > 0, lv.GetValueOrDefault("id") as string ?? ""));
        }

        return new LvmMetadata
        {
            VolumeGroup = vgName,
            VolumeGroupId = vg.GetValueOrDefault("id") as string ?? "",
            ExtentBytes = extent,
            FirstExtentBytes = firstExtent,
            ExtentCount = Number(pv, "pe_count"),
            Volumes = volumes,
        };
    }

    private static Dictionary<string, object> Section(Dictionary<string, object> parent, string name) =>
        parent.GetValueOrDefault(name) as Dictionary<string, object> ?? throw Corrupt($"the metadata has no {name} section");

    private static long Number(Dictionary<string, object> section, string key) =>
        section.GetValueOrDefault(key) is long n ? n : throw Corrupt($"the metadata has no number {key}");

    private static DiskFormatException Corrupt(string message) => new(DiskErrorCodes.CorruptFileSystem, "LVM2 metadata: " + message);

    /// <summary>LVM's configuration syntax: <c>name = value</c>, <c>name { … }</c>, strings, integers, lists, <c>#</c> comments.</summary>
    private sealed class ConfigParser(string text)
    {
        private int _at;

        public Dictionary<string, object> ParseSection(bool topLevel)
        {
            var items = new Dictionary<string, object>(StringComparer.Ordinal);
            while (true)
            {
                Skip();
                if (_at >= text.Length)
                {
                    return topLevel ? items : throw Corrupt("a section is not closed");
                }

                if (text[_at] == '}')
                {
                    _at++;
                    return topLevel ? throw Corrupt("a '}' closes nothing") : items;
                }

                string name = Name();
                Skip();
                if (_at < text.Length && text[_at] == '{')
                {
                    _at++;
                    items[name] = ParseSection(topLevel: false);
                }
                else if (_at < text.Length && text[_at] == '=')
                {
                    _at++;
                    items[name] = Value();
                }
                else
                {
                    throw Corrupt($"'{name}' is followed by neither '=' nor '{{'");
                }
            }
        }

        private object Value()
        {
            Skip();
            if (_at >= text.Length)
            {
                throw Corrupt("a value is missing");
            }

            if (text[_at] == '[')
            {
                _at++;
                var list = new List<object>();
                while (true)
                {
                    Skip();
                    if (_at < text.Length && text[_at] == ']')
                    {
                        _at++;
                        return list;
                    }

                    list.Add(Value());
                    Skip();
                    if (_at < text.Length && text[_at] == ',')
                    {
                        _at++;
                    }
                }
            }

            if (text[_at] == '"')
            {
                var sb = new StringBuilder();
                for (_at++; _at < text.Length && text[_at] != '"'; _at++)
                {
                    sb.Append(text[_at] == '\\' && _at + 1 < text.Length ? text[++_at] : text[_at]);
                }

                _at++;
                return sb.ToString();
            }

            int start = _at;
            while (_at < text.Length && (char.IsAsciiDigit(text[_at]) || text[_at] is '-' or '.'))
            {
                _at++;
            }

            string token = text[start.._at];
            // Boxed apart: a conditional of long and double would make every integer a double.
            if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            {
                return n;
            }

            return double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw Corrupt($"an unreadable value at character {start}");
        }

        private string Name()
        {
            int start = _at;
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] is '_' or '-' or '.' or '+'))
            {
                _at++;
            }

            return _at > start ? text[start.._at] : throw Corrupt($"a name is expected at character {start}");
        }

        private void Skip()
        {
            while (_at < text.Length)
            {
                if (char.IsWhiteSpace(text[_at]))
                {
                    _at++;
                }
                else if (text[_at] == '#')
                {
                    while (_at < text.Length && text[_at] != '\n')
                    {
                        _at++;
                    }
                }
                else
                {
                    return;
                }
            }
        }
    }
}
