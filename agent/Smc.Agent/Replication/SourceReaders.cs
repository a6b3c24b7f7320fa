using Microsoft.Win32.SafeHandles;
using Smc.Agent.Platform.Live;

namespace Smc.Agent.Replication;

/// <summary>
/// The round's open source disks: positional reads of chunks, through the page cache for image files and quiet disks,
/// with O_DIRECT for disks with mounted file systems (<see cref="DirectReader"/>). Counts the bytes read from them.
/// </summary>
internal sealed class SourceReaders : IDisposable
{
    private readonly List<DiskPlan> _plans;
    private readonly Dictionary<int, SafeFileHandle> _buffered = [];
    private readonly Dictionary<int, DirectReader> _direct = [];
    private readonly int _chunkSize;
    private long _bufferedBytes;

    public SourceReaders(List<DiskPlan> plans, int chunkSize)
    {
        _plans = plans;
        _chunkSize = chunkSize;
        try
        {
            foreach (DiskPlan p in plans)
            {
                if (p.Live is { } live)
                {
                    _direct[p.Index] = new DirectReader(p.Device, live.LogicalBlockSize, chunkSize);
                }
                else
                {
                    _buffered[p.Index] = File.OpenHandle(p.Device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Bytes read from the disks so far (O_DIRECT reads widened to the logical block size counted whole).</summary>
    public long BytesRead => Interlocked.Read(ref _bufferedBytes) + _direct.Values.Sum(d => d.BytesRead);

    public void Read(ChunkRange range, Span<byte> buffer)
    {
        string device = _plans[range.Disk].Device;
        if (_direct.TryGetValue(range.Disk, out DirectReader? direct))
        {
            try
            {
                direct.Read(range.Offset, buffer);
                return;
            }
            catch (Exception e) when (e is IOException)
            {
                throw Unreadable(device, range.Offset, range.Offset + buffer.Length, e);
            }
        }

        SafeFileHandle handle = _buffered[range.Disk];
        int read = 0;
        try
        {
            while (read < buffer.Length)
            {
                int n = RandomAccess.Read(handle, buffer[read..], range.Offset + read);
                if (n == 0)
                {
                    throw new AgentException(ExitCodes.DiskError, $"{device}: unexpected end at byte {range.Offset + read}.");
                }

                read += n;
            }
        }
        catch (IOException e)
        {
            throw Unreadable(device, range.Offset + read, range.Offset + buffer.Length, e);
        }
        finally
        {
            Interlocked.Add(ref _bufferedBytes, read);
        }
    }

    /// <summary>Reads any span of a disk (in pieces no longer than a chunk), for the file system structures read under a freeze.</summary>
    public void ReadAt(int disk, long offset, Span<byte> buffer)
    {
        int piece = Math.Min(64 * 1024, _chunkSize);
        for (int done = 0; done < buffer.Length; done += piece)
        {
            int n = Math.Min(piece, buffer.Length - done);
            Read(new ChunkRange(disk, offset + done, n), buffer.Slice(done, n));
        }
    }

    public void Dispose()
    {
        foreach (SafeFileHandle h in _buffered.Values)
        {
            h.Dispose();
        }

        foreach (DirectReader d in _direct.Values)
        {
            d.Dispose();
        }
    }

    private static AgentException Unreadable(string device, long from, long to, Exception e) =>
        new(ExitCodes.DiskError, $"{device}: can't read bytes {from}–{to} ({e.Message}). Check the disk (dmesg) and start the job again.", e);
}
