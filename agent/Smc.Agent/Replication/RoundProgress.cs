using Smc.Wire.Agent;
using Smc.Wire.Staging;

namespace Smc.Agent.Replication;

/// <summary>Counters of a running round, per disk: scanned (read or known free), skipped (free or zero), uploaded (stored bytes).</summary>
internal sealed class RoundProgress
{
    private readonly long[] _total, _planned, _scanned, _skipped, _uploaded;
    private readonly object _gate = new();
    private long _uploadedThisRun, _readThisRun;

    /// <param name="journal">What a resumed round did already (chunks sent or found unchanged), or null for a new round.</param>
    public RoundProgress(List<DiskPlan> plans, RoundJournal? journal)
    {
        int n = plans.Count;
        (_total, _planned, _scanned, _skipped, _uploaded) = (new long[n], new long[n], new long[n], new long[n], new long[n]);
        foreach (DiskPlan p in plans)
        {
            _total[p.Index] = p.SizeBytes;
            _planned[p.Index] = p.PlannedBytes;
            _skipped[p.Index] = p.SizeBytes - p.PlannedBytes; // free space never read
            _scanned[p.Index] = _skipped[p.Index];
        }

        foreach (DiskPlan p in journal is null ? [] : plans)
        {
            _scanned[p.Index] += journal!.CoveredBytes(p.Index);
            _uploaded[p.Index] += journal.StoredBytes(p.Index);
        }
    }

    public long SkippedBytes
    {
        get
        {
            lock (_gate)
            {
                return _skipped.Sum();
            }
        }
    }

    public void Skipped(ChunkRange range)
    {
        lock (_gate)
        {
            _scanned[range.Disk] += range.Length;
            _skipped[range.Disk] += range.Length;
        }
    }

    /// <summary>A chunk read and found unchanged since the base round: scanned, not sent.</summary>
    public void Unchanged(ChunkRange range)
    {
        lock (_gate)
        {
            _scanned[range.Disk] += range.Length;
            _readThisRun += range.Length;
        }
    }

    public void Uploaded(IEnumerable<ManifestChunk> chunks, long packBytes)
    {
        lock (_gate)
        {
            foreach (ManifestChunk c in chunks)
            {
                _scanned[c.Disk] += c.Length;
                _uploaded[c.Disk] += c.StoredLength;
                _readThisRun += c.Length;
            }

            _uploadedThisRun += packBytes;
        }
    }

    public ProgressReport Snapshot(int round, TimeSpan elapsed)
    {
        lock (_gate)
        {
            double rate = elapsed.TotalSeconds > 0 ? _uploadedThisRun / elapsed.TotalSeconds : 0;
            long remaining = _total.Sum() - _scanned.Sum();

            // The rate is this process's own reading (not what a resumed round's journal covered before it): with
            // nothing read and sent yet — storage down, a slow first pack — there is no estimate, not one of years.
            double scanRate = elapsed.TotalSeconds > 0 ? _readThisRun / elapsed.TotalSeconds : 0;
            return new ProgressReport
            {
                Round = round,
                BytesPerSecond = rate,
                EtaSeconds = scanRate > 0 ? remaining / scanRate : null,
                Disks = Enumerable.Range(0, _total.Length).Select(i => new DiskProgressReport
                {
                    Index = i,
                    TotalBytes = _total[i],
                    ScannedBytes = Math.Min(_total[i], _scanned[i]),
                    UploadedBytes = _uploaded[i],
                    SkippedBytes = _skipped[i],
                }).ToList(),
            };
        }
    }

    /// <summary>A one-line progress bar for a terminal, at most <paramref name="width"/> characters.</summary>
    public string Bar(ProgressReport r, int width)
    {
        long total = r.Disks.Sum(d => d.TotalBytes), scanned = r.Disks.Sum(d => d.ScannedBytes);
        double share = total == 0 ? 1 : (double)scanned / total;
        string tail = $" {share * 100,5:0.0}%  up {RoundRunner.Human(r.Disks.Sum(d => d.UploadedBytes))} at {RoundRunner.Human((long)r.BytesPerSecond)}/s"
            + (r.EtaSeconds is { } eta ? $"  ETA {TimeSpan.FromSeconds(Math.Round(eta)):g}" : "");
        int cells = Math.Max(10, width - tail.Length - 2);
        int filled = (int)Math.Round(share * cells);
        string line = "[" + new string('#', filled) + new string('.', cells - filled) + "]" + tail;
        return line.Length > width ? line[..width] : line.PadRight(width);
    }

    public string Describe(ProgressReport r)
    {
        long total = r.Disks.Sum(d => d.TotalBytes), scanned = r.Disks.Sum(d => d.ScannedBytes);
        double pct = total == 0 ? 100 : 100.0 * scanned / total;
        return $"progress {pct,5:0.0}%  scanned {RoundRunner.Human(scanned)} of {RoundRunner.Human(total)}, skipped {RoundRunner.Human(r.Disks.Sum(d => d.SkippedBytes))}, "
            + $"uploaded {RoundRunner.Human(r.Disks.Sum(d => d.UploadedBytes))} at {RoundRunner.Human((long)r.BytesPerSecond)}/s"
            + (r.EtaSeconds is { } eta ? $", ETA {TimeSpan.FromSeconds(Math.Round(eta)):g}" : "");
    }
}
