using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Smc.Transfer;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>A chunk's 32-byte keyed fingerprint, inline in its <see cref="ChunkRecord"/>.</summary>
[InlineArray(ChunkFingerprint.Length)]
internal struct Fingerprint32
{
    private byte _element0;
}

/// <summary>
/// One chunk of a round as the control plane keeps it while the round is assembled: a fixed 72-byte record, so a round
/// of millions of chunks lies in a local file (<see cref="RecordFile"/>) instead of the heap (issue 20: a ManifestChunk
/// with its strings takes ~300 bytes of heap, and the JSON it came from ~200 more).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct ChunkRecord
{
    public const int Size = 72;
    private const int SentFlag = 1;
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public long Offset;
    public long Position;

    /// <summary>The pack id's 16 hex digits as a number (<see cref="PackId"/>); meaningless when not <see cref="Sent"/>.</summary>
    public ulong Pack;
    public int Disk;
    public int Length;
    public int StoredLength;
    public int Flags;
    public Fingerprint32 Fingerprint;

    /// <summary>The chunk was sent this round (it has a pack); else it is unchanged since the base round.</summary>
    public readonly bool Sent => (Flags & SentFlag) != 0;

    public readonly string PackId => Pack.ToString("x16", CultureInfo.InvariantCulture);

    public readonly string FingerprintHex
    {
        get
        {
            Fingerprint32 copy = Fingerprint;
            return Convert.ToHexStringLower(copy);
        }
    }

    /// <summary>The same length and fingerprint: the same content (under one fingerprint key).</summary>
    public static bool SameContent(in ChunkRecord a, in ChunkRecord b) =>
        a.Length == b.Length && ((ReadOnlySpan<byte>)a.Fingerprint).SequenceEqual(b.Fingerprint);

    /// <summary>Whether <paramref name="fingerprint"/> is this chunk's.</summary>
    public readonly bool HasFingerprint(ReadOnlySpan<byte> fingerprint) => ((ReadOnlySpan<byte>)Fingerprint).SequenceEqual(fingerprint);

    /// <summary>Order by disk, then source offset.</summary>
    public static int Compare(ChunkRecord a, ChunkRecord b) => a.Disk != b.Disk ? a.Disk.CompareTo(b.Disk) : a.Offset.CompareTo(b.Offset);

    /// <summary>The record of a manifest chunk; false when its pack id or fingerprint is not what the format allows.</summary>
    public static bool TryFrom(ManifestChunk chunk, out ChunkRecord record, out string? problem)
    {
        record = new ChunkRecord
        {
            Disk = chunk.Disk,
            Offset = chunk.Offset,
            Length = chunk.Length,
            Position = chunk.Position,
            StoredLength = chunk.StoredLength,
        };
        problem = null;
        if (chunk.Pack is not null)
        {
            if (!StagingNames.IsPackId(chunk.Pack))
            {
                problem = "pack";
                return false;
            }

            record.Pack = ulong.Parse(chunk.Pack, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            record.Flags = SentFlag;
        }

        if (!TryParseFingerprint(chunk.Fingerprint, ref record.Fingerprint))
        {
            problem = "fingerprint";
            return false;
        }

        return true;
    }

    /// <summary>The record of a base round's fingerprint entry (no pack); false when its fingerprint is malformed.</summary>
    public static bool TryFrom(FingerprintEntry entry, out ChunkRecord record)
    {
        record = new ChunkRecord { Disk = entry.Disk, Offset = entry.Offset, Length = entry.Length };
        return TryParseFingerprint(entry.Fingerprint, ref record.Fingerprint);
    }

    /// <summary>64 lowercase hex digits, as manifests carry a fingerprint.</summary>
    private static bool TryParseFingerprint(string? hex, ref Fingerprint32 into) =>
        hex is { Length: ChunkFingerprint.Length * 2 }
        && hex.AsSpan().IndexOfAnyExcept(LowerHex) < 0
        && Convert.FromHexString(hex, into, out _, out int written) == System.Buffers.OperationStatus.Done
        && written == ChunkFingerprint.Length;
}

/// <summary>
/// An append-then-read file of <see cref="ChunkRecord"/>s, private to this process: created in the temp directory and
/// unlinked at once (on Windows deleted on close), so its space goes back when it is disposed, collected, or the process
/// ends, and nothing is left behind by a crash. Appends are buffered; reads are positional and may run concurrently.
/// </summary>
internal sealed class RecordFile : IDisposable
{
    private const int BufferRecords = 4096;
    private readonly SafeFileHandle _handle = CreateTemp();
    private ChunkRecord[]? _pending = new ChunkRecord[BufferRecords];
    private int _buffered;

    public long Count { get; private set; }

    public void Append(in ChunkRecord record)
    {
        ChunkRecord[] pending = _pending ?? throw new InvalidOperationException("The record file is sealed.");
        pending[_buffered++] = record;
        Count++;
        if (_buffered == pending.Length)
        {
            Flush();
        }
    }

    /// <summary>Writes what is buffered; no more appends after it.</summary>
    public void Seal()
    {
        if (_pending is not null)
        {
            Flush();
            _pending = null;
        }
    }

    /// <summary>Records [first, first + into.Length).</summary>
    public void Read(long first, Span<ChunkRecord> into)
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(into);
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(_handle, bytes[read..], (first * ChunkRecord.Size) + read);
            read += n > 0 ? n : throw new EndOfStreamException($"A record file of {Count} records ends before record {first + into.Length}.");
        }
    }

    public ChunkRecord Read(long index)
    {
        Span<ChunkRecord> one = stackalloc ChunkRecord[1];
        Read(index, one);
        return one[0];
    }

    /// <summary>Records [first, first + count) in order, read a block at a time.</summary>
    public IEnumerable<ChunkRecord> Sequence(long first, long count, int blockRecords = BufferRecords)
    {
        var block = new ChunkRecord[(int)Math.Min(blockRecords, Math.Max(count, 1))];
        for (long at = first; at < first + count; at += block.Length)
        {
            int n = (int)Math.Min(block.Length, first + count - at);
            Read(at, block.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                yield return block[i];
            }
        }
    }

    public void Dispose() => _handle.Dispose();

    private void Flush()
    {
        RandomAccess.Write(_handle, MemoryMarshal.AsBytes(_pending.AsSpan(0, _buffered)), (Count - _buffered) * ChunkRecord.Size);
        _buffered = 0;
    }

    private static SafeFileHandle CreateTemp()
    {
        string path = Path.Combine(Path.GetTempPath(), $"smc-chunks-{Guid.NewGuid():N}.tmp");
        if (OperatingSystem.IsWindows())
        {
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        }

        SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
        File.Delete(path);
        return handle;
    }
}

/// <summary>
/// Puts chunk records in (disk, offset) order in flat memory: runs of <see cref="RunRecords"/> are sorted in memory and
/// spilled to a <see cref="RecordFile"/>, then merged. A round small enough for one run never touches the disk.
/// </summary>
internal sealed class ChunkSorter : IDisposable
{
    internal const int RunRecords = 1 << 16;
    private readonly ChunkRecord[] _run = new ChunkRecord[RunRecords];
    private readonly List<(long First, long Count)> _runs = [];
    private RecordFile? _spill;
    private int _count;

    public long Count { get; private set; }

    public void Add(in ChunkRecord record)
    {
        if (_count == RunRecords)
        {
            Spill();
        }

        _run[_count++] = record;
        Count++;
    }

    /// <summary>Every record added, by disk then offset (once: the sorter is spent after it).</summary>
    public IEnumerable<ChunkRecord> Sorted()
    {
        if (_spill is null)
        {
            _run.AsSpan(0, _count).Sort(ChunkRecord.Compare);
            return _run.Take(_count);
        }

        if (_count > 0)
        {
            Spill();
        }

        _spill.Seal();
        return Merge(_spill, _runs);
    }

    public void Dispose() => _spill?.Dispose();

    private static IEnumerable<ChunkRecord> Merge(RecordFile spill, List<(long First, long Count)> runs)
    {
        var heads = new PriorityQueue<IEnumerator<ChunkRecord>, ChunkRecord>(Comparer<ChunkRecord>.Create(ChunkRecord.Compare));
        foreach ((long first, long count) in runs)
        {
            // A small read-ahead per run: the merge holds one block per run, and a round of N chunks has N / RunRecords runs.
            IEnumerator<ChunkRecord> run = spill.Sequence(first, count, blockRecords: 256).GetEnumerator();
            if (run.MoveNext())
            {
                heads.Enqueue(run, run.Current);
            }
        }

        while (heads.TryDequeue(out IEnumerator<ChunkRecord>? run, out ChunkRecord record))
        {
            yield return record;
            if (run.MoveNext())
            {
                heads.Enqueue(run, run.Current);
            }
            else
            {
                run.Dispose();
            }
        }
    }

    private void Spill()
    {
        _spill ??= new RecordFile();
        _run.AsSpan(0, _count).Sort(ChunkRecord.Compare);
        _runs.Add((_spill.Count, _count));
        foreach (ChunkRecord record in _run.AsSpan(0, _count))
        {
            _spill.Append(record);
        }

        _count = 0;
    }
}
