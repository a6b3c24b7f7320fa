using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Smc.Core.Services;

/// <summary>
/// An append-then-read file of fixed-size records (<see cref="T"/>, <see cref="Images.ExtentRecord"/>), private to this process: created in the temp directory and
/// unlinked at once (on Windows deleted on close), so its space goes back when it is disposed, collected, or the process
/// ends, and nothing is left behind by a crash. Appends are buffered; reads are positional and may run concurrently.
/// </summary>
internal sealed class RecordFile<T> : IDisposable
    where T : unmanaged
{
    private const int BufferRecords = 4096;
    private readonly SafeFileHandle _handle = CreateTemp();
    private T[]? _pending = new T[BufferRecords];
    private int _buffered;

    public long Count { get; private set; }

    public void Append(in T record)
    {
        T[] pending = _pending ?? throw new InvalidOperationException("The record file is sealed.");
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
    public void Read(long first, Span<T> into)
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(into);
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(_handle, bytes[read..], (first * Unsafe.SizeOf<T>()) + read);
            read += n > 0 ? n : throw new EndOfStreamException($"A record file of {Count} records ends before record {first + into.Length}.");
        }
    }

    public T Read(long index)
    {
        Span<T> one = stackalloc T[1];
        Read(index, one);
        return one[0];
    }

    /// <summary>Records [first, first + count) in order, read a block at a time.</summary>
    public IEnumerable<T> Sequence(long first, long count, int blockRecords = BufferRecords)
    {
        var block = new T[(int)Math.Min(blockRecords, Math.Max(count, 1))];
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
        RandomAccess.Write(_handle, MemoryMarshal.AsBytes(_pending.AsSpan(0, _buffered)), (Count - _buffered) * Unsafe.SizeOf<T>());
        _buffered = 0;
    }

    private static SafeFileHandle CreateTemp()
    {
        string path = Path.Combine(Path.GetTempPath(), $"smc-records-{Guid.NewGuid():N}.tmp");
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
/// Puts records in order (<see cref="ChunkRecord"/>s by disk and offset, say) in flat memory: runs of <see cref="RunRecords"/> are sorted in memory and
/// spilled to a <see cref="RecordFile"/>, then merged. A round small enough for one run never touches the disk.
/// </summary>
internal sealed class RecordSorter<T>(Comparison<T> compare) : IDisposable
    where T : unmanaged
{
    internal const int RunRecords = 1 << 16;
    private readonly T[] _run = new T[RunRecords];
    private readonly List<(long First, long Count)> _runs = [];
    private RecordFile<T>? _spill;
    private int _count;

    public long Count { get; private set; }

    public void Add(in T record)
    {
        if (_count == RunRecords)
        {
            Spill();
        }

        _run[_count++] = record;
        Count++;
    }

    /// <summary>Every record added, by disk then offset (once: the sorter is spent after it).</summary>
    public IEnumerable<T> Sorted()
    {
        if (_spill is null)
        {
            _run.AsSpan(0, _count).Sort(compare);
            return _run.Take(_count);
        }

        if (_count > 0)
        {
            Spill();
        }

        _spill.Seal();
        return Merge(_spill, _runs, compare);
    }

    public void Dispose() => _spill?.Dispose();

    private static IEnumerable<T> Merge(RecordFile<T> spill, List<(long First, long Count)> runs, Comparison<T> compare)
    {
        var heads = new PriorityQueue<IEnumerator<T>, T>(Comparer<T>.Create(compare));
        foreach ((long first, long count) in runs)
        {
            // A small read-ahead per run: the merge holds one block per run, and a round of N chunks has N / RunRecords runs.
            IEnumerator<T> run = spill.Sequence(first, count, blockRecords: 256).GetEnumerator();
            if (run.MoveNext())
            {
                heads.Enqueue(run, run.Current);
            }
        }

        while (heads.TryDequeue(out IEnumerator<T>? run, out T record))
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
        _spill ??= new RecordFile<T>();
        _run.AsSpan(0, _count).Sort(compare);
        _runs.Add((_spill.Count, _count));
        foreach (T record in _run.AsSpan(0, _count))
        {
            _spill.Append(record);
        }

        _count = 0;
    }
}
