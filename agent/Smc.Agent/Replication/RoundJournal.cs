using System.Text;
using System.Text.Json;
using Smc.Wire.Staging;

namespace Smc.Agent.Replication;

/// <summary>
/// The agent's checkpoint for one round, <c>{state dir}/{jobId}-r{round}.journal</c> (mode 0600: it holds the
/// round's data key). Line 1 is the header; each further line is one pack the staging store acknowledged, with its
/// chunks, or a batch of chunks found unchanged since the base round. A restarted agent reads it back and sends none
/// of those chunks again. A torn last line (crash mid-append) is ignored: that pack is simply sent again under a new
/// name, those unchanged chunks compared again.
/// <para>Over 400 lines on purpose: one file format — its header, its line kinds, how each is written and how a replay reads them back — kept in one place, so a change to one line kind is made against the others.</para>
/// </summary>
/// <remarks>
/// Memory doesn't grow with the disk: the chunks stay in the file, and what the round needs of them is read back from
/// it as a stream — <see cref="DoneChunks"/> (a bitmap, one bit per chunk-size cell of the disks) when resuming, and
/// <see cref="Entries"/> when writing the manifest and the fingerprints. In memory: counters only.
/// </remarks>
internal sealed class RoundJournal : IDisposable
{
    private readonly string _path;
    private readonly FileStream _file;
    private readonly object _gate = new();
    private readonly Dictionary<int, (long Covered, long Stored)> _disks = [];

    private RoundJournal(string path, FileStream file)
    {
        _path = path;
        _file = file;
    }

    public JournalHeader Header { get; private set; } = null!;

    /// <summary>Chunks acknowledged in packs so far.</summary>
    public long SentChunks { get; private set; }

    /// <summary>Bytes of those packs' frames (headers included).</summary>
    public long SentStoredBytes { get; private set; }

    /// <summary>Chunks found unchanged since the base round so far (not sent).</summary>
    public long UnchangedChunks { get; private set; }

    public string? CommittedManifestSha256 { get; private set; }

    /// <summary>
    /// The highest pass the journal has: a live round reads its disks in pass 0 and re-reads what was written meanwhile
    /// in later passes (the last one under the freeze); a chunk of a later pass replaces what an earlier pass had there.
    /// </summary>
    public int LastPass { get; private set; }

    private bool _hasRereads;

    /// <summary>What the round's image is, once its reading is done (kept for a commit retried by another process).</summary>
    public Smc.Wire.Agent.RoundConsistency? Consistency { get; private set; }

    public void SetConsistency(Smc.Wire.Agent.RoundConsistency consistency)
    {
        lock (_gate)
        {
            Append(new JournalLine { Consistency = consistency });
            Consistency = consistency;
        }
    }

    /// <summary>Plaintext bytes the journal's chunks (sent or unchanged) cover on a disk.</summary>
    public long CoveredBytes(int disk)
    {
        lock (_gate)
        {
            return _disks.TryGetValue(disk, out var d) ? d.Covered : 0;
        }
    }

    /// <summary>Stored bytes of the chunks sent of a disk.</summary>
    public long StoredBytes(int disk)
    {
        lock (_gate)
        {
            return _disks.TryGetValue(disk, out var d) ? d.Stored : 0;
        }
    }

    public static RoundJournal Open(string path, Func<JournalHeader> newHeader)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var file = new FileStream(path, options);
        var journal = new RoundJournal(path, file);
        JournalHeader? header = null;
        long good = 0;
        foreach ((JournalLine entry, long end) in ReadLines(file))
        {
            if (entry.Header is not null)
            {
                header = entry.Header;
            }
            else if (header is null)
            {
                break; // lines before a header belong to no round: start the journal again
            }
            else if (entry.Committed is not null)
            {
                journal.CommittedManifestSha256 = entry.Committed;
            }
            else if (entry.Consistency is not null)
            {
                journal.Consistency = entry.Consistency;
            }
            else
            {
                // Counted as read, in one pass: the chunks themselves stay in the file.
                journal.Count(entry.Chunks, sent: true);
                journal.Count(entry.Unchanged, sent: false);
                journal.LastPass = Math.Max(journal.LastPass, entry.Pass);
                journal._hasRereads |= entry.Reread is not null || entry.RereadAll;
            }

            good = end;
        }

        file.SetLength(header is null ? 0 : good);
        file.Position = file.Length;
        journal.Header = header ?? newHeader();
        if (header is null)
        {
            journal.Append(new JournalLine { Header = journal.Header });
        }

        return journal;
    }

    /// <summary>
    /// Every chunk of the journal, sent (with its pack) or unchanged (without), read back from the file — except those a
    /// later pass re-read (its chunk replaces theirs: the journal names what each pass re-reads before its chunks).
    /// </summary>
    public IEnumerable<ManifestChunk> Entries()
    {
        lock (_gate)
        {
            _file.Flush(flushToDisk: false);
        }

        Superseded? superseded = _hasRereads ? ReadRereads() : null;
        foreach ((JournalLine entry, _) in ReadLines(new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
        {
            foreach (ManifestChunk c in (entry.Chunks ?? []).Concat(entry.Unchanged ?? []))
            {
                if (superseded?.Replaces(c, entry.Pass) != true)
                {
                    yield return c;
                }
            }
        }
    }

    /// <summary>
    /// Starts pass <paramref name="pass"/>: names the ranges it re-reads (null: all of them — a live round resumed by
    /// another process can't know what changed while nobody watched). Written before the pass's chunks.
    /// </summary>
    public void BeginPass(int pass, IEnumerable<ChunkRange>? rereads)
    {
        lock (_gate)
        {
            if (rereads is null)
            {
                Append(new JournalLine { Pass = pass, RereadAll = true });
            }
            else
            {
                foreach (ChunkRange[] batch in rereads.Chunk(1024))
                {
                    Append(new JournalLine { Pass = pass, Reread = [.. batch.Select(r => new[] { r.Disk, r.Offset, r.Length })] });
                }
            }

            LastPass = Math.Max(LastPass, pass);
            _hasRereads = true;
        }
    }

    /// <summary>What the entries add up to once re-read chunks are left out: what the manifest and the commit say.</summary>
    public (long SentChunks, long StoredBytes, long UnchangedChunks, Dictionary<int, long> Covered) Totals()
    {
        if (!_hasRereads)
        {
            // Nothing was re-read: the counters kept while appending already are the totals (no pass over the file).
            lock (_gate)
            {
                return (SentChunks, SentStoredBytes, UnchangedChunks, _disks.ToDictionary(d => d.Key, d => d.Value.Covered));
            }
        }

        long sent = 0, stored = 0, unchanged = 0;
        var covered = new Dictionary<int, long>();
        foreach (ManifestChunk c in Entries())
        {
            covered[c.Disk] = covered.GetValueOrDefault(c.Disk) + c.Length;
            if (c.Pack is null)
            {
                unchanged++;
            }
            else
            {
                sent++;
                stored += c.StoredLength;
            }
        }

        return (sent, stored, unchanged, covered);
    }

    private Superseded ReadRereads()
    {
        var result = new Superseded(Header.ChunkSize);
        foreach ((JournalLine entry, _) in ReadLines(new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
        {
            if (entry.RereadAll)
            {
                result.AllBefore = Math.Max(result.AllBefore, entry.Pass);
            }

            foreach (long[] r in entry.Reread ?? [])
            {
                if (r.Length == 3)
                {
                    result.Add((int)r[0], r[1], r[1] + r[2], entry.Pass);
                }
            }
        }

        return result;
    }

    /// <summary>Re-read ranges by (disk, cell): a chunk is replaced by a range of a later pass that overlaps it.</summary>
    private sealed class Superseded(int chunkSize)
    {
        private readonly Dictionary<(int Disk, long Cell), List<(long Start, long End, int Pass)>> _cells = [];

        /// <summary>Chunks of passes before this one are all replaced.</summary>
        public int AllBefore { get; set; }

        public void Add(int disk, long start, long end, int pass)
        {
            for (long cell = start / chunkSize; cell * chunkSize < end; cell++)
            {
                if (!_cells.TryGetValue((disk, cell), out var list))
                {
                    _cells[(disk, cell)] = list = [];
                }

                list.Add((start, end, pass));
            }
        }

        public bool Replaces(ManifestChunk c, int pass) =>
            pass < AllBefore
            || (_cells.TryGetValue((c.Disk, c.Offset / chunkSize), out var list)
                && list.Any(r => r.Pass > pass && r.Start < c.Offset + c.Length && c.Offset < r.End));
    }

    /// <summary>The chunks a resumed round needn't read again: a bit per grid cell, exact offsets for the few cells plans share.</summary>
    public ChunkSet DoneChunks(IReadOnlyList<DiskPlan> plans)
    {
        var set = new ChunkSet(plans, Header.ChunkSize);
        foreach (ManifestChunk c in Entries())
        {
            set.Add(c.Disk, c.Offset);
        }

        return set;
    }

    public void AddPack(IReadOnlyList<ManifestChunk> packChunks, int pass = 0)
    {
        lock (_gate)
        {
            Append(new JournalLine { Chunks = [.. packChunks], Pass = pass });
            Count(packChunks, sent: true);
        }
    }

    /// <summary>Chunks found unchanged since the base round, in batches (a lost batch is only compared again).</summary>
    public void AddUnchanged(IReadOnlyList<ManifestChunk> unchanged, int pass = 0)
    {
        if (unchanged.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            Append(new JournalLine { Unchanged = [.. unchanged], Pass = pass });
            Count(unchanged, sent: false);
        }
    }

    public void MarkCommitted(string manifestSha256)
    {
        lock (_gate)
        {
            Append(new JournalLine { Committed = manifestSha256 });
            CommittedManifestSha256 = manifestSha256;
        }
    }

    public void Dispose() => _file.Dispose();

    private void Count(IEnumerable<ManifestChunk>? chunks, bool sent)
    {
        foreach (ManifestChunk c in chunks ?? [])
        {
            (long covered, long stored) = _disks.GetValueOrDefault(c.Disk);
            _disks[c.Disk] = (covered + c.Length, stored + (sent ? c.StoredLength : 0));
            if (sent)
            {
                SentChunks++;
                SentStoredBytes += c.StoredLength;
            }
            else
            {
                UnchangedChunks++;
            }
        }
    }

    /// <summary>The whole lines of a journal with the file position after each; stops at the first torn or invalid line.</summary>
    private static IEnumerable<(JournalLine Line, long End)> ReadLines(FileStream file)
    {
        using var reader = new StreamReader(file, Encoding.UTF8, leaveOpen: file.CanWrite);
        string? line;
        long position = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            position += Encoding.UTF8.GetByteCount(line) + 1;
            JournalLine? entry;
            try
            {
                entry = JsonSerializer.Deserialize<JournalLine>(line, AgentJson.Compact);
            }
            catch (JsonException)
            {
                yield break;
            }

            if (entry is null)
            {
                yield break;
            }

            yield return (entry, position);
        }
    }

    private void Append(JournalLine line)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, AgentJson.Compact) + "\n");
        _file.Write(bytes);
        _file.Flush(flushToDisk: true);
    }
}

/// <summary>
/// A set of chunks by (disk, offset) in memory that grows with the disks' size, not their content: one bit per grid
/// cell, plus exact offsets only for the cells where a plan has more than one chunk (partition boundaries).
/// </summary>
internal sealed class ChunkSet
{
    private readonly IReadOnlyList<DiskPlan> _plans;
    private readonly int _chunkSize;
    private readonly ulong[][] _bits;
    private readonly HashSet<(int, long)> _shared = [];

    public ChunkSet(IReadOnlyList<DiskPlan> plans, int chunkSize)
    {
        _plans = plans;
        _chunkSize = chunkSize;
        _bits = [.. plans.Select(p => new ulong[(p.SizeBytes / chunkSize + 64) / 64])];
    }

    public int Count { get; private set; }

    public void Add(int disk, long offset)
    {
        if (disk < 0 || disk >= _plans.Count || offset < 0 || offset >= _plans[disk].SizeBytes)
        {
            return; // a disk that changed since the checkpoint: nothing of it is skipped
        }

        long cell = offset / _chunkSize;
        if (_plans[disk].IsSharedCell(cell))
        {
            Count += _shared.Add((disk, offset)) ? 1 : 0;
            return;
        }

        ref ulong word = ref _bits[disk][cell / 64];
        ulong bit = 1UL << (int)(cell % 64);
        Count += (word & bit) == 0 ? 1 : 0;
        word |= bit;
    }

    public bool Contains(int disk, long offset)
    {
        long cell = offset / _chunkSize;
        return _plans[disk].IsSharedCell(cell) ? _shared.Contains((disk, offset)) : (_bits[disk][cell / 64] & (1UL << (int)(cell % 64))) != 0;
    }
}

internal sealed class JournalHeader
{
    public required string JobId { get; init; }

    public int Round { get; init; }

    /// <summary>The round's AES-256 data key (base64). Kept only here, on the source, mode 0600.</summary>
    public required string DataKey { get; init; }

    public required string WrappedDataKey { get; init; }

    public required string KeyFingerprint { get; init; }

    public int ChunkSize { get; init; }
}

internal sealed class JournalLine
{
    public JournalHeader? Header { get; init; }

    public List<ManifestChunk>? Chunks { get; init; }

    /// <summary>Chunks unchanged since the base round: no pack, the fingerprint the base round has.</summary>
    public List<ManifestChunk>? Unchanged { get; init; }

    public string? Committed { get; init; }

    public Smc.Wire.Agent.RoundConsistency? Consistency { get; init; }

    /// <summary>The pass of a live round this line belongs to (0: the first read of the disks).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int Pass { get; init; }

    /// <summary>Ranges (disk, offset, length) this pass reads again: what earlier passes had there is replaced.</summary>
    public List<long[]>? Reread { get; init; }

    /// <summary>This pass reads everything again: nothing of an earlier pass counts.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool RereadAll { get; init; }
}
