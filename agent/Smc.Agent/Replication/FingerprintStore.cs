using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Smc.Wire.Staging;

namespace Smc.Agent.Replication;

/// <summary>
/// The fingerprints of the last committed round, kept by the agent as <c>{state dir}/{jobId}.fingerprints</c>: what
/// the next round compares with. A 4 KiB JSON header (job, round, chunk size, disk sizes), then per disk one 40-byte
/// slot per chunk-size cell — offset in the cell + 1 (0: empty), length, the 32-byte fingerprint — written as a sparse
/// file. A lookup reads one slot from the file, so memory doesn't grow with the disks (a 1 TiB disk is 40 MiB of slots
/// on disk, less where it is sparse). A cell with two chunks (a partition boundary) keeps one of them: the other is
/// simply sent again.
/// </summary>
internal sealed class FingerprintStore : IDisposable
{
    private const int HeaderBytes = 4096;
    private const int SlotBytes = 40;
    private const string Format = "smc-agent-fingerprints-1";

    private readonly SafeFileHandle _handle;
    private readonly long[] _diskStarts;

    private FingerprintStore(SafeFileHandle handle, StoreHeader header)
    {
        _handle = handle;
        Header = header;
        _diskStarts = Starts(header);
    }

    public StoreHeader Header { get; }

    /// <summary>Writes a store atomically (temp file, then rename) from chunks in any order.</summary>
    public static void Write(string path, string jobId, int round, int chunkSize, IReadOnlyList<long> diskSizes, IEnumerable<(int Disk, long Offset, int Length, string Fingerprint)> chunks) =>
        Write(path, jobId, round, chunkSize, diskSizes, add =>
        {
            foreach ((int disk, long offset, int length, string fingerprint) in chunks)
            {
                add(disk, offset, length, fingerprint);
            }
        });

    /// <summary>Writes a store atomically from chunks that <paramref name="produce"/> hands to the callback it is given.</summary>
    public static void Write(string path, string jobId, int round, int chunkSize, IReadOnlyList<long> diskSizes, Action<Action<int, long, int, string>> produce)
    {
        var header = new StoreHeader { Format = Format, JobId = jobId, Round = round, ChunkSize = chunkSize, DiskSizes = [.. diskSizes] };
        long[] starts = Starts(header);
        string temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temp, options))
        {
            byte[] head = new byte[HeaderBytes];
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(header, AgentJson.Compact);
            if (json.Length >= HeaderBytes)
            {
                throw new InvalidOperationException("Too many disks for the fingerprint store's header.");
            }

            json.CopyTo(head, 0);
            head[json.Length] = (byte)'\n';
            RandomAccess.Write(file.SafeFileHandle, head, 0);
            file.SetLength(starts[^1]);
            byte[] slot = new byte[SlotBytes];
            produce((disk, offset, length, fingerprint) =>
            {
                if (disk < 0 || disk >= diskSizes.Count || offset < 0 || offset >= diskSizes[disk] || fingerprint.Length != 64)
                {
                    return;
                }

                BinaryPrimitives.WriteInt32LittleEndian(slot, (int)(offset % chunkSize) + 1);
                BinaryPrimitives.WriteInt32LittleEndian(slot.AsSpan(4), length);
                Convert.FromHexString(fingerprint, slot.AsSpan(8), out _, out _);
                RandomAccess.Write(file.SafeFileHandle, slot, starts[disk] + offset / chunkSize * SlotBytes);
            });

            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The store at <paramref name="path"/>, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file is not a store, or is cut short.</exception>
    public static FingerprintStore? Open(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            byte[] head = new byte[HeaderBytes];
            int n = RandomAccess.Read(handle, head, 0);
            int end = Array.IndexOf(head, (byte)'\n', 0, n);
            StoreHeader? header;
            try
            {
                header = end < 0 ? null : JsonSerializer.Deserialize<StoreHeader>(head.AsSpan(0, end), AgentJson.Compact);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"not a fingerprint store ({e.Message})", e);
            }

            if (header?.Format != Format || header.ChunkSize <= 0 || RandomAccess.GetLength(handle) < Starts(header)[^1])
            {
                throw new InvalidDataException("not a fingerprint store, or cut short");
            }

            return new FingerprintStore(handle, header);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the store holds a chunk at exactly this place with this length and fingerprint (a disk whose size changed holds none).</summary>
    public bool Matches(int disk, long offset, int length, ReadOnlySpan<byte> fingerprint, long diskSize)
    {
        if (disk >= Header.DiskSizes.Count || Header.DiskSizes[disk] != diskSize)
        {
            return false;
        }

        Span<byte> slot = stackalloc byte[SlotBytes];
        if (RandomAccess.Read(_handle, slot, _diskStarts[disk] + offset / Header.ChunkSize * SlotBytes) != SlotBytes)
        {
            return false;
        }

        return BinaryPrimitives.ReadInt32LittleEndian(slot) == (int)(offset % Header.ChunkSize) + 1
            && BinaryPrimitives.ReadInt32LittleEndian(slot[4..]) == length
            && slot[8..].SequenceEqual(fingerprint);
    }

    /// <summary>The fingerprint (lowercase hex) of the chunk the store holds at exactly this place and length, or null.</summary>
    public string? Find(int disk, long offset, int length, long diskSize)
    {
        if (disk >= Header.DiskSizes.Count || Header.DiskSizes[disk] != diskSize)
        {
            return null;
        }

        Span<byte> slot = stackalloc byte[SlotBytes];
        return RandomAccess.Read(_handle, slot, _diskStarts[disk] + offset / Header.ChunkSize * SlotBytes) == SlotBytes
            && BinaryPrimitives.ReadInt32LittleEndian(slot) == (int)(offset % Header.ChunkSize) + 1
            && BinaryPrimitives.ReadInt32LittleEndian(slot[4..]) == length
                ? Convert.ToHexStringLower(slot[8..]) : null;
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>Where each disk's slots start, and (last) the end of the file.</summary>
    private static long[] Starts(StoreHeader header)
    {
        var starts = new long[header.DiskSizes.Count + 1];
        starts[0] = HeaderBytes;
        for (int i = 0; i < header.DiskSizes.Count; i++)
        {
            starts[i + 1] = starts[i] + (header.DiskSizes[i] + header.ChunkSize - 1) / header.ChunkSize * SlotBytes;
        }

        return starts;
    }

    internal sealed class StoreHeader
    {
        public required string Format { get; init; }

        public required string JobId { get; init; }

        public int Round { get; init; }

        public int ChunkSize { get; init; }

        public List<long> DiskSizes { get; init; } = [];
    }
}
