using System.Text;
using System.Text.Json;
using Smc.Wire.Staging;

namespace Smc.Agent.Replication;

/// <summary>
/// The agent's checkpoint for one round, <c>{state dir}/{jobId}-r{round}.journal</c> (mode 0600: it holds the
/// round's data key). Line 1 is the header; each further line is one pack the staging store acknowledged,
/// with its chunks. A restarted agent reads it back and sends none of those chunks again. A torn last line
/// (crash mid-append) is ignored: that pack is simply sent again under a new name.
/// </summary>
internal sealed class RoundJournal : IDisposable
{
    private readonly FileStream _file;
    private readonly object _gate = new();

    private RoundJournal(FileStream file, JournalHeader header, List<ManifestChunk> chunks, string? committed)
    {
        _file = file;
        Header = header;
        Chunks = chunks;
        CommittedManifestSha256 = committed;
    }

    public JournalHeader Header { get; }

    /// <summary>Every acknowledged chunk so far.</summary>
    public List<ManifestChunk> Chunks { get; }

    public string? CommittedManifestSha256 { get; private set; }

    public static RoundJournal Open(string path, Func<JournalHeader> newHeader)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var file = new FileStream(path, options);
        JournalHeader? header = null;
        var chunks = new List<ManifestChunk>();
        string? committed = null;
        long good = 0;
        using (var reader = new StreamReader(file, Encoding.UTF8, leaveOpen: true))
        {
            string? line;
            long position = 0;
            while ((line = reader.ReadLine()) is not null)
            {
                position += Encoding.UTF8.GetByteCount(line) + 1;
                try
                {
                    JournalLine entry = JsonSerializer.Deserialize<JournalLine>(line, AgentJson.Compact) ?? throw new JsonException();
                    if (entry.Header is not null)
                    {
                        header = entry.Header;
                    }
                    else if (entry.Chunks is not null)
                    {
                        chunks.AddRange(entry.Chunks);
                    }
                    else if (entry.Committed is not null)
                    {
                        committed = entry.Committed;
                    }

                    good = position;
                }
                catch (JsonException)
                {
                    break;
                }
            }
        }

        file.SetLength(good);
        file.Position = good;
        var journal = new RoundJournal(file, header ?? newHeader(), header is null ? [] : chunks, header is null ? null : committed);
        if (header is null)
        {
            file.SetLength(0);
            journal.Append(new JournalLine { Header = journal.Header });
        }

        return journal;
    }

    public void AddPack(IReadOnlyList<ManifestChunk> packChunks)
    {
        lock (_gate)
        {
            Append(new JournalLine { Chunks = [.. packChunks] });
            Chunks.AddRange(packChunks);
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

    private void Append(JournalLine line)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, AgentJson.Compact) + "\n");
        _file.Write(bytes);
        _file.Flush(flushToDisk: true);
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

    public string? Committed { get; init; }
}
