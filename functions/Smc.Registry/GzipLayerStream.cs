using System.IO.Compression;
using System.Security.Cryptography;
using System.Threading.Channels;

namespace Smc.Registry;

/// <summary>
/// A layer compressed while it is read: the gzip of a tar stream, produced by a background task into a bounded channel
/// (a few MiB in flight, never the whole layer), with the tar's digest (<see cref="DiffId"/>) once it has been read to
/// the end. The same tar gives the same bytes every time, so a push can open it again to resume.
/// </summary>
public sealed class GzipLayerStream : Smc.Core.IO.ReadOnlyStream
{
    private readonly Channel<byte[]> _chunks = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _diffId = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _producer;
    private byte[] _current = [];
    private int _offset;
    private long _position;
    private int _disposed;

    public GzipLayerStream(Stream tar, CompressionLevel level = CompressionLevel.Optimal)
    {
        _producer = Task.Run(async () =>
        {
            try
            {
                using var diff = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                await using (var sink = new ChannelSink(_chunks.Writer, _stop.Token))
                await using (var gzip = new GZipStream(sink, level, leaveOpen: true))
                {
                    byte[] buffer = new byte[1 << 16];
                    int n;
                    while ((n = await tar.ReadAsync(buffer, _stop.Token)) > 0)
                    {
                        diff.AppendData(buffer, 0, n);
                        await gzip.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                    }
                }

                _diffId.TrySetResult("sha256:" + Convert.ToHexStringLower(diff.GetHashAndReset()));
                _chunks.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _diffId.TrySetException(e);
                _chunks.Writer.TryComplete(e);
            }
            finally
            {
                await tar.DisposeAsync();
            }
        });
    }

    /// <summary>The digest of the uncompressed tar (the config's diff_id), known once the stream was read to its end.</summary>
    public Task<string> DiffId => _diffId.Task;

    protected override long BytesRead => _position;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_offset == _current.Length)
        {
            if (!await _chunks.Reader.WaitToReadAsync(cancellationToken))
            {
                return 0;
            }

            if (_chunks.Reader.TryRead(out byte[]? next))
            {
                _current = next;
                _offset = 0;
            }
        }

        int n = Math.Min(buffer.Length, _current.Length - _offset);
        _current.AsMemory(_offset, n).CopyTo(buffer);
        _offset += n;
        _position += n;
        return n;
    }

    public override async ValueTask DisposeAsync()
    {
        await StopAsync();
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            StopAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    /// <summary>Stops the producer (a reader that gives up early must not leave it blocked on a full channel); once.</summary>
    private async ValueTask StopAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        while (_chunks.Reader.TryRead(out _))
        {
        }

        try
        {
            await _producer;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>What the gzip writes, posted to the channel in pieces of at most 1 MiB.</summary>
    private sealed class ChannelSink(ChannelWriter<byte[]> writer, CancellationToken stop) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            for (int i = 0; i < buffer.Length; i += 1 << 20)
            {
                await writer.WriteAsync(buffer.Slice(i, Math.Min(1 << 20, buffer.Length - i)).ToArray(), stop);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
