namespace Smc.Alibaba.Tests;

/// <summary>Multipart upload through the OSS client against the emulator: byte-identical objects, resumption, retries, refusals.</summary>
public sealed class OssClientEmulatorTests : EmulatorTest
{
    private const int Part = 1 << 20;
    private readonly byte[] _disk = new byte[(5 * Part) + 12345];

    public OssClientEmulatorTests()
    {
        State.OssBuckets["migrations"] = "cn-hangzhou";
        new Random(5).NextBytes(_disk);
    }

    [Fact]
    public async Task Upload_InParallelParts_ObjectIsByteIdentical_NothingLeftOpen()
    {
        OssClient oss = Client();
        string uploadId = await oss.InitiateAsync("migrations", "j-1/disk 0+.raw");
        int sent = await oss.UploadAsync("migrations", "j-1/disk 0+.raw", uploadId, _disk.Length, Part, 3, OpenDisk);
        Assert.Equal(6, sent);
        Assert.Equal(_disk, State.OssObjects["migrations/j-1/disk 0+.raw"]);
        Assert.Equal(0, State.OpenUploads());
    }

    [Fact]
    public async Task InterruptedUpload_ResumedFromTheListedParts_WithoutResendingThem()
    {
        OssClient oss = Client();
        string uploadId = await oss.InitiateAsync("migrations", "j-2/disk0.raw");
        int opened = 0;
        Stream Crashing() => Interlocked.Increment(ref opened) > 3 ? throw new IOException("host killed") : OpenDisk();

        await Assert.ThrowsAsync<IOException>(() => oss.UploadAsync("migrations", "j-2/disk0.raw", uploadId, _disk.Length, Part, 1, Crashing));
        int before = State.Calls["oss:UploadPart"];
        Assert.Equal(3, (await oss.ListPartsAsync("migrations", "j-2/disk0.raw", uploadId)).Count);

        int sent = await Client().UploadAsync("migrations", "j-2/disk0.raw", uploadId, _disk.Length, Part, 2, OpenDisk);
        Assert.Equal(3, sent);
        Assert.Equal(before + 3, State.Calls["oss:UploadPart"]);
        Assert.Equal(_disk, State.OssObjects["migrations/j-2/disk0.raw"]);
    }

    [Fact]
    public async Task ListParts_FollowsPages_AndARangeListsOnlyItsParts()
    {
        State.ListPartsPageLimit = 2;
        OssClient oss = Client();
        string uploadId = await oss.InitiateAsync("migrations", "j-5/disk0.raw");
        foreach (int number in new[] { 1, 2, 3, 5, 6 })
        {
            await oss.UploadPartAsync("migrations", "j-5/disk0.raw", uploadId, number, OpenDisk(), (number - 1) * Part, Math.Min(Part, _disk.Length - ((number - 1) * Part)));
        }

        int before = State.Calls.GetValueOrDefault("oss:ListParts");
        Assert.Equal([1, 2, 3, 5, 6], (await oss.ListPartsAsync("migrations", "j-5/disk0.raw", uploadId)).Select(p => p.Number));
        Assert.Equal(before + 3, State.Calls["oss:ListParts"]);
        Assert.Equal([3, 5], (await oss.ListPartsAsync("migrations", "j-5/disk0.raw", uploadId, 3, 5)).Select(p => p.Number));
        Assert.Equal(12345, (await oss.ListPartsAsync("migrations", "j-5/disk0.raw", uploadId, 6, 6)).Single().Size);
        Assert.Null(await oss.GetObjectSizeAsync("migrations", "j-5/disk0.raw"));
        await oss.CompleteAsync("migrations", "j-5/disk0.raw", uploadId, await oss.ListPartsAsync("migrations", "j-5/disk0.raw", uploadId));
        Assert.Equal((5L * Part) + 12345 - Part, await oss.GetObjectSizeAsync("migrations", "j-5/disk0.raw"));
    }

    [Fact]
    public async Task APartIsStreamed_ReadsStayWithinItAndBounded_AndTheEmulatorChecksItsContentMd5()
    {
        // A part of 3.5 MiB at an odd offset of a larger source: the client reads only [offset, offset + length), never
        // more than its 1 MiB buffer at once (it did read the whole part into one array), and a retried part is read again.
        var source = new WatchedStream(_disk);
        State.OssFaults.Enqueue("UploadPart");
        OssClient oss = Client();
        string uploadId = await oss.InitiateAsync("migrations", "j-6/disk0.raw");
        const int offset = 777, length = (7 * Part / 2) + 3;
        string etag = await oss.UploadPartAsync("migrations", "j-6/disk0.raw", uploadId, 1, source, offset, length);

        Assert.True(source.Reads.Count > 0);
        Assert.All(source.Reads, r => Assert.True(r.Offset >= offset && r.Offset + r.Count <= offset + length, $"read {r.Count} at {r.Offset}"));
        Assert.True(source.Reads.Max(r => r.Count) <= Part, $"largest read {source.Reads.Max(r => r.Count)}");
        Assert.Equal(3L * length, source.Reads.Sum(r => (long)r.Count)); // hashed once, sent twice (the first answered 500)
        await oss.CompleteAsync("migrations", "j-6/disk0.raw", uploadId, [new OssPart(1, etag, length)]);
        Assert.Equal(_disk.AsSpan(offset, length).ToArray(), State.OssObjects["migrations/j-6/disk0.raw"]);
    }

    [Fact]
    public async Task ASourceShorterThanThePart_IsAnError_NotAShortPart()
    {
        OssClient oss = Client();
        string uploadId = await oss.InitiateAsync("migrations", "j-7/disk0.raw");
        await Assert.ThrowsAsync<EndOfStreamException>(() => oss.UploadPartAsync("migrations", "j-7/disk0.raw", uploadId, 1, OpenDisk(), _disk.Length - 10, 11));
        Assert.Empty(await oss.ListPartsAsync("migrations", "j-7/disk0.raw", uploadId));
    }

    [Fact]
    public async Task ServerErrorOnAPart_RetriedAndTheObjectIsWhole()
    {
        State.OssFaults.Enqueue("UploadPart");
        OssClient oss = Client();
        string uploadId = await oss.InitiateAsync("migrations", "j-3/disk0.raw");
        await oss.UploadAsync("migrations", "j-3/disk0.raw", uploadId, _disk.Length, Part, 1, OpenDisk);
        Assert.Equal(7, State.Calls["oss:UploadPart"]);
        Assert.Equal(_disk, State.OssObjects["migrations/j-3/disk0.raw"]);
    }

    [Fact]
    public async Task WrongSecretOrMissingBucket_PreciseCodes_AndAbortLeavesNothing()
    {
        var wrong = await Assert.ThrowsAsync<AlibabaException>(() => Client("not-the-secret").InitiateAsync("migrations", "j-4/disk0.raw"));
        Assert.Equal(("SignatureDoesNotMatch", 403, AlibabaErrorKind.UserError), (wrong.Code, wrong.Status, wrong.Kind));
        var missing = await Assert.ThrowsAsync<AlibabaException>(() => Client().InitiateAsync("no-such-bucket", "j-4/disk0.raw"));
        Assert.Equal(("NoSuchBucket", 404), (missing.Code, missing.Status));

        string uploadId = await Client().InitiateAsync("migrations", "j-4/disk0.raw");
        await Client().AbortAsync("migrations", "j-4/disk0.raw", uploadId);
        Assert.Equal(0, State.OpenUploads());
        Assert.False(State.OssObjects.ContainsKey("migrations/j-4/disk0.raw"));
    }

    private MemoryStream OpenDisk() => new(_disk, writable: false);

    /// <summary>A seekable source that records every read (where, how much) made of it.</summary>
    private sealed class WatchedStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes, writable: false);

        public List<(long Offset, int Count)> Reads { get; } = [];

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => _inner.Length;

        public override long Position { get => _inner.Position; set => _inner.Position = value; }

        public override int Read(Span<byte> buffer)
        {
            long at = _inner.Position;
            int read = _inner.Read(buffer);
            Reads.Add((at, read));
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private OssClient Client(string secret = "test-secret") => new(new HttpClient(), Options(secret), "cn-hangzhou", TimeProvider.System);
}
