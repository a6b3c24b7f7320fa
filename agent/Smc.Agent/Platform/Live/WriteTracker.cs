using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Smc.Agent.Platform.Live;

/// <summary>
/// Tracks writes to source block devices with the kernel's block tracepoints in a private tracefs instance
/// (<c>/sys/kernel/tracing/instances/smc-agent-PID-N</c>): <c>block_bio_queue</c> and <c>block_rq_complete</c>,
/// filtered by device, read from the instance's <c>trace_pipe</c> on a thread of its own. A range is marked at queue
/// and at completion, so a write queued before tracking began is still seen when it completes. Sectors are absolute on
/// the disk. No driver, no relay files (<c>BLKTRACESETUP</c> is refused on many kernels): a stock kernel's tracefs.
/// </summary>
/// <remarks>
/// <see cref="Barrier"/> writes a marker into the instance and waits until the reader has passed it: every event the
/// kernel recorded before the marker (the trace merges the per-CPU buffers by time) has then been marked. Lost events
/// (a per-CPU buffer overran) make <see cref="IsLost"/> true: the caller must not trust the marks any more.
/// </remarks>
internal sealed partial class WriteTracker : IDisposable
{
    internal const string InstancePrefix = "smc-agent-";
    private static int s_sequence;
    private readonly string _instance;
    private readonly Dictionary<uint, int> _diskOfDevice;
    private readonly int _cellSize;
    private readonly object _gate = new();
    private readonly FileStream _pipe;
    private readonly Thread _reader;
    private Dictionary<long, (int Lo, int Hi)>[] _dirty;
    private long _barrierSent;
    private long _barrierSeen;
    private bool _readerFailed;

    private WriteTracker(string instance, Dictionary<uint, int> diskOfDevice, int disks, int cellSize, FileStream pipe)
    {
        _instance = instance;
        _diskOfDevice = diskOfDevice;
        _cellSize = cellSize;
        _dirty = NewMaps(disks);
        _pipe = pipe;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "smc-write-tracker" };
        _reader.Start();
    }

    public static string TraceRoot { get; set; } = "/sys/kernel/tracing";

    /// <summary>The trace can't be trusted any more: events were lost or the reader stopped.</summary>
    public bool IsLost => _readerFailed || Overruns() > 0;

    /// <summary>
    /// Starts tracking the devices (index in the list = the disk index the marks are kept under); null with the reason
    /// when tracefs or the block tracepoints can't be used here (not root, no tracefs, a kernel without them).
    /// </summary>
    public static WriteTracker? TryStart(IReadOnlyList<DeviceNumber?> devices, int cellSize, out string? whyNot)
    {
        whyNot = null;
        string instances = Path.Combine(TraceRoot, "instances");
        if (!Directory.Exists(instances) && LinuxNative.MountTracefs(TraceRoot) != 0 && !Directory.Exists(instances))
        {
            whyNot = $"tracefs is not mounted at {TraceRoot} and can't be";
            return null;
        }

        SweepStale();
        string name = $"{InstancePrefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_sequence)}";
        string instance = Path.Combine(instances, name);
        try
        {
            Directory.CreateDirectory(instance);
            var map = new Dictionary<uint, int>();
            for (int i = 0; i < devices.Count; i++)
            {
                if (devices[i] is DeviceNumber d)
                {
                    map[d.Kernel] = i;
                }
            }

            string filter = string.Join(" || ", map.Keys.Select(k => $"dev == {k}"));
            File.WriteAllText(Path.Combine(instance, "buffer_size_kb"), "4096");
            foreach (string e in new[] { "block_bio_queue", "block_rq_complete" })
            {
                string dir = Path.Combine(instance, "events", "block", e);
                if (!Directory.Exists(dir))
                {
                    throw new IOException($"this kernel has no block/{e} tracepoint");
                }

                File.WriteAllText(Path.Combine(dir, "filter"), filter);
                File.WriteAllText(Path.Combine(dir, "enable"), "1");
            }

            File.WriteAllText(Path.Combine(instance, "tracing_on"), "1");
            var pipe = new FileStream(Path.Combine(instance, "trace_pipe"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            var tracker = new WriteTracker(instance, map, devices.Count, cellSize, pipe);
            // Nothing counts as tracked until the reader has passed a first marker.
            if (!tracker.Barrier(TimeSpan.FromSeconds(5)))
            {
                tracker.Dispose();
                whyNot = "the trace of the block tracepoints didn't answer";
                return null;
            }

            return tracker;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Remove(instance);
            whyNot = $"the block tracepoints can't be used ({e.Message})";
            return null;
        }
    }

    /// <summary>Removes instances left by agents that are gone (killed before they could remove their own).</summary>
    public static int SweepStale()
    {
        string instances = Path.Combine(TraceRoot, "instances");
        int removed = 0;
        foreach (string dir in Directory.Exists(instances) ? Directory.GetDirectories(instances, InstancePrefix + "*") : [])
        {
            string[] parts = Path.GetFileName(dir)[InstancePrefix.Length..].Split('-');
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                removed += Remove(dir) ? 1 : 0;
            }
        }

        return removed;
    }

    /// <summary>Waits until every event recorded before this call has been marked; false when the reader didn't get there in time.</summary>
    public bool Barrier(TimeSpan timeout)
    {
        long n;
        lock (_gate)
        {
            n = ++_barrierSent;
        }

        try
        {
            File.WriteAllText(Path.Combine(_instance, "trace_marker"), $"smc-barrier-{n}\n");
        }
        catch (IOException)
        {
            return false;
        }

        var until = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (_barrierSeen < n && !_readerFailed)
            {
                TimeSpan left = until - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                Monitor.Wait(_gate, left);
            }

            return _barrierSeen >= n;
        }
    }

    /// <summary>The marks so far, per disk (cell → lowest and highest written byte within the cell), cleared for what follows.</summary>
    public DirtyCells Take()
    {
        lock (_gate)
        {
            Dictionary<long, (int Lo, int Hi)>[] taken = _dirty;
            _dirty = NewMaps(taken.Length);
            return new DirtyCells(taken);
        }
    }

    /// <summary>Bytes of the cells marked so far (an estimate of what a catch-up would read).</summary>
    public long PendingBytes()
    {
        lock (_gate)
        {
            return _dirty.Sum(d => d.Values.Sum(v => (long)(v.Hi - v.Lo)));
        }
    }

    /// <summary>Events the kernel dropped because its buffer was full (the instance's per-CPU stats).</summary>
    public long Overruns()
    {
        long total = 0;
        try
        {
            foreach (string cpu in Directory.GetDirectories(Path.Combine(_instance, "per_cpu")))
            {
                foreach (string line in File.ReadLines(Path.Combine(cpu, "stats")))
                {
                    if (line.StartsWith("overrun:", StringComparison.Ordinal) || line.StartsWith("commit overrun:", StringComparison.Ordinal)
                        || line.StartsWith("dropped events:", StringComparison.Ordinal))
                    {
                        total += long.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            return long.MaxValue;
        }

        return total;
    }

    public void Dispose()
    {
        try
        {
            File.WriteAllText(Path.Combine(_instance, "trace_marker"), "smc-stop\n");
        }
        catch (IOException)
        {
        }

        _reader.Join(TimeSpan.FromSeconds(5));
        _pipe.Dispose();
        Remove(_instance);
    }

    /// <summary>
    /// One line of the trace, e.g. <c>block_rq_complete: 7,0 WS () 32770 + 2560 be,0,4 [0]</c> or
    /// <c>block_bio_queue: 7,0 WS 32770 + 2560 [sqlite3]</c>: device, operation, first sector, sectors.
    /// </summary>
    [GeneratedRegex(@"block_(?:bio_queue|rq_complete): (\d+),(\d+) ([A-Z]+) (?:\(.*?\) )?(\d+) \+ (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex EventLine();

    /// <summary>Parses a trace line into (kernel dev, first byte, length) when it is a write (or discard, write-zeroes); null otherwise.</summary>
    internal static (uint Dev, long Start, long Length)? ParseWrite(string line)
    {
        Match m = EventLine().Match(line);
        if (!m.Success)
        {
            return null;
        }

        string op = m.Groups[3].Value;
        long sectors = long.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture);
        // rwbs: F (flush) first, then R/W/D/N for the operation. Reads don't change the disk; a flush carries no range.
        if (sectors == 0 || op.Contains('R', StringComparison.Ordinal) || !ulong.TryParse(m.Groups[4].Value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong sector) || sector > long.MaxValue / 512)
        {
            return null;
        }

        uint dev = (uint)((int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) << 20) | int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        return (dev, (long)sector * 512, sectors * 512);
    }

    private void ReadLoop()
    {
        byte[] buffer = new byte[1 << 16];
        var pending = new StringBuilder();
        try
        {
            while (true)
            {
                int n = _pipe.Read(buffer);
                if (n <= 0)
                {
                    break;
                }

                pending.Append(Encoding.UTF8.GetString(buffer, 0, n));
                string text = pending.ToString();
                int end = text.LastIndexOf('\n');
                if (end < 0)
                {
                    continue;
                }

                pending.Clear().Append(text, end + 1, text.Length - end - 1);
                foreach (string line in text[..end].Split('\n'))
                {
                    if (!Handle(line))
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_gate)
            {
                _readerFailed = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Marks a write or passes a barrier; false at the stop marker.</summary>
    private bool Handle(string line)
    {
        int marker = line.IndexOf("tracing_mark_write: smc-", StringComparison.Ordinal);
        if (marker >= 0)
        {
            string tag = line[(marker + "tracing_mark_write: smc-".Length)..].Trim();
            if (tag == "stop")
            {
                return false;
            }

            if (tag.StartsWith("barrier-", StringComparison.Ordinal) && long.TryParse(tag["barrier-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long seen))
            {
                lock (_gate)
                {
                    _barrierSeen = Math.Max(_barrierSeen, seen);
                    Monitor.PulseAll(_gate);
                }
            }

            return true;
        }

        if (ParseWrite(line) is not var (dev, start, length) || !_diskOfDevice.TryGetValue(dev, out int disk))
        {
            return true;
        }

        lock (_gate)
        {
            Dictionary<long, (int Lo, int Hi)> cells = _dirty[disk];
            for (long at = start; at < start + length;)
            {
                long cell = at / _cellSize;
                long cellEnd = (cell + 1) * _cellSize;
                int lo = (int)(at - (cell * _cellSize));
                int hi = (int)(Math.Min(start + length, cellEnd) - (cell * _cellSize));
                cells[cell] = cells.TryGetValue(cell, out var had) ? (Math.Min(had.Lo, lo), Math.Max(had.Hi, hi)) : (lo, hi);
                at = cellEnd;
            }
        }

        return true;
    }

    private static Dictionary<long, (int Lo, int Hi)>[] NewMaps(int disks) => [.. Enumerable.Range(0, disks).Select(_ => new Dictionary<long, (int, int)>())];

    private static bool Remove(string instance)
    {
        try
        {
            if (Directory.Exists(instance))
            {
                Directory.Delete(instance); // rmdir: tracefs removes the whole instance
            }

            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>Cells written since a point, per disk: cell number → lowest and highest written byte offset within the cell.</summary>
internal sealed class DirtyCells(Dictionary<long, (int Lo, int Hi)>[] perDisk)
{
    public int Disks => perDisk.Length;

    public IReadOnlyDictionary<long, (int Lo, int Hi)> Of(int disk) => perDisk[disk];

    public long CellCount => perDisk.Sum(d => (long)d.Count);

    /// <summary>Marks ranges as written too (what must be read under a freeze whether written or not), in cells of <paramref name="cellSize"/>.</summary>
    public DirtyCells Including(IEnumerable<(int Disk, long Offset, int Length)> ranges, int cellSize)
    {
        foreach ((int disk, long offset, int length) in ranges)
        {
            if (disk >= perDisk.Length)
            {
                continue;
            }

            for (long at = offset; at < offset + length;)
            {
                long cell = at / cellSize, cellEnd = (cell + 1) * cellSize;
                int lo = (int)(at - (cell * cellSize)), hi = (int)(Math.Min(offset + length, cellEnd) - (cell * cellSize));
                perDisk[disk][cell] = perDisk[disk].TryGetValue(cell, out var had) ? (Math.Min(had.Lo, lo), Math.Max(had.Hi, hi)) : (lo, hi);
                at = cellEnd;
            }
        }

        return this;
    }
}
