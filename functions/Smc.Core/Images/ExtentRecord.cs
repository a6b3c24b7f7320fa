using System.Runtime.InteropServices;
using Smc.Core.Services;

namespace Smc.Core.Images;

/// <summary>An <see cref="ImageExtent"/> as a fixed 48-byte record, for <see cref="RecordFile{T}"/>s (a disk map of millions of extents).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8)]
internal struct ExtentRecord
{
    public long Destination;
    public long Source;
    public long Position;
    public ulong Pack;
    public int Round;
    public int Length;
    public int StoredLength;

    public readonly long End => Destination + Length;

    public static int ByDestination(ExtentRecord a, ExtentRecord b) => a.Destination.CompareTo(b.Destination);

    public static int BySource(ExtentRecord a, ExtentRecord b) => a.Source.CompareTo(b.Source);

    /// <exception cref="InvalidDataException">The extent names no pack a manifest could have.</exception>
    public static ExtentRecord From(ImageExtent e) => new()
    {
        Destination = e.Destination,
        Source = e.Source,
        Position = e.Position,
        Pack = PackIds.Parse(e.Pack) ?? throw new InvalidDataException($"An image map extent names pack '{e.Pack}'."),
        Round = e.Round,
        Length = e.Length,
        StoredLength = e.StoredLength,
    };

    public readonly string PackId => PackIds.Format(Pack);

    public readonly ImageExtent ToExtent() => new(Destination, Round, Source, Length, PackId, Position, StoredLength);
}

/// <summary>
/// A disk map's extents in a local file, by destination offset, for <see cref="PackedDiskStream"/>: found by binary
/// search, or by stepping on from the last one found (a disk is mostly read in order).
/// </summary>
internal sealed class ExtentTable : IDisposable
{
    private readonly RecordFile<ExtentRecord> _file = new();
    private long _last = -1;
    private ExtentRecord _lastRecord;

    public long Count => _file.Count;

    /// <summary>The longest extent, plain or stored (the buffers a reader needs).</summary>
    public int Largest { get; private set; }

    /// <summary>
    /// Reads a disk map from <paramref name="input"/>: its head, and its extents into a table.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a disk map, or its extents are out of order or overlap.</exception>
    public static async Task<(ImageDiskMap Head, ExtentTable Table)> LoadAsync(Stream input, CancellationToken cancellationToken)
    {
        var table = new ExtentTable();
        try
        {
            long end = long.MinValue;
            ImageDiskMap head = await ImageDiskMap.ReadAsync(input, e =>
            {
                if (e.Destination < end || e.Length <= 0 || e.StoredLength <= 0)
                {
                    throw new InvalidDataException($"The image map's extent at {e.Destination} is out of order, overlaps the one before, or is empty.");
                }

                end = e.Destination + e.Length;
                table.Largest = Math.Max(table.Largest, Math.Max(e.Length, e.StoredLength));
                table._file.Append(ExtentRecord.From(e));
            }, cancellationToken);
            table._file.Seal();
            return (head, table);
        }
        catch
        {
            table.Dispose();
            throw;
        }
    }

    public ExtentRecord this[long index]
    {
        get
        {
            if (index == _last)
            {
                return _lastRecord;
            }

            ExtentRecord r = _file.Read(index);
            (_last, _lastRecord) = (index, r);
            return r;
        }
    }

    /// <summary>The index of the extent holding <paramref name="at"/>, or the complement of the next extent's index when none does.</summary>
    public long Find(long at)
    {
        // The extent after the last one found is the likely one when a disk is read in order.
        if (_last >= 0 && _lastRecord.Destination <= at)
        {
            long i = _last;
            if (at < _lastRecord.End)
            {
                return i;
            }

            if (i + 1 >= Count)
            {
                return ~Count;
            }

            ExtentRecord next = this[i + 1];
            if (at < next.Destination)
            {
                return ~(i + 1);
            }

            if (at < next.End)
            {
                return i + 1;
            }
        }

        long lo = 0, hi = Count;
        while (lo < hi)
        {
            long mid = lo + ((hi - lo) / 2);
            if (this[mid].End <= at)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo < Count && this[lo].Destination <= at ? lo : ~lo;
    }

    public void Dispose() => _file.Dispose();
}
