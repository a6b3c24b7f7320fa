using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Smc.Agent.Platform.Live;

/// <summary>
/// Reads a block device with <c>O_DIRECT</c>: what is read is what is on the disk, not a page the device's cache kept
/// from an earlier read while a mounted file system wrote around it. Reads are widened to the device's logical block
/// size and go through an aligned buffer of one chunk per thread.
/// </summary>
internal sealed class DirectReader : IDisposable
{
    private const int Alignment = 4096;
    private readonly SafeFileHandle _handle;
    private readonly int _block;
    private readonly int _maxLength;
    private readonly ThreadLocal<(byte[] Raw, int Offset)> _buffers;

    public DirectReader(string device, int logicalBlockSize, int maxLength)
    {
        _handle = new SafeFileHandle(LinuxNative.OpenReadOnly(device, direct: true), ownsHandle: true);
        _block = Math.Max(512, logicalBlockSize);
        _maxLength = maxLength;
        _buffers = new ThreadLocal<(byte[], int)>(NewBuffer, trackAllValues: false);
    }

    /// <summary>Bytes read from the device (widened reads counted whole).</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    private long _bytesRead;

    public void Read(long offset, Span<byte> destination)
    {
        long start = offset / _block * _block;
        long end = (offset + destination.Length + _block - 1) / _block * _block;
        if (end - start > _maxLength + (2L * _block))
        {
            throw new ArgumentOutOfRangeException(nameof(destination), "a read longer than a chunk");
        }

        (byte[] raw, int at) = _buffers.Value;
        Span<byte> aligned = raw.AsSpan(at, (int)(end - start));
        int done = 0;
        while (done < aligned.Length)
        {
            int n = RandomAccess.Read(_handle, aligned[done..], start + done);
            if (n == 0)
            {
                throw new EndOfStreamException($"unexpected end at byte {start + done}");
            }

            done += n;
        }

        Interlocked.Add(ref _bytesRead, aligned.Length);
        aligned.Slice((int)(offset - start), destination.Length).CopyTo(destination);
    }

    public void Dispose()
    {
        _handle.Dispose();
        _buffers.Dispose();
    }

    private (byte[], int) NewBuffer()
    {
        // Pinned (never moved), so an aligned offset into it stays aligned.
        byte[] raw = GC.AllocateUninitializedArray<byte>(_maxLength + (2 * _block) + Alignment, pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(raw, 0).ToInt64();
        return (raw, (int)((Alignment - (address % Alignment)) % Alignment));
    }
}
