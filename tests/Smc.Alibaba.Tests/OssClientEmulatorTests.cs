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
        int sent = await oss.UploadAsync("migrations", "j-1/disk 0+.raw", uploadId, _disk.Length, Part, 3, ReadDisk);
        Assert.Equal(6, sent);
        Assert.Equal(_disk, State.OssObjects["migrations/j-1/disk 0+.raw"]);
        Assert.Equal(0, State.OpenUploads());
    }

    [Fact]
    public async Task InterruptedUpload_ResumedFromTheListedParts_WithoutResendingThem()
    {
        OssClient oss = Client();
        string uploadId = await oss.InitiateAsync("migrations", "j-2/disk0.raw");
        int reads = 0;
        async Task Crashing(long offset, Memory<byte> buffer, CancellationToken ct)
        {
            if (Interlocked.Increment(ref reads) > 3)
            {
                throw new IOException("host killed");
            }

            await ReadDisk(offset, buffer, ct);
        }

        await Assert.ThrowsAsync<IOException>(() => oss.UploadAsync("migrations", "j-2/disk0.raw", uploadId, _disk.Length, Part, 1, Crashing));
        int before = State.Calls["oss:UploadPart"];
        Assert.Equal(3, (await oss.ListPartsAsync("migrations", "j-2/disk0.raw", uploadId)).Count);

        int sent = await Client().UploadAsync("migrations", "j-2/disk0.raw", uploadId, _disk.Length, Part, 2, ReadDisk);
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
            await oss.UploadPartAsync("migrations", "j-5/disk0.raw", uploadId, number, _disk.AsMemory((number - 1) * Part, Math.Min(Part, _disk.Length - ((number - 1) * Part))));
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
    public async Task ServerErrorOnAPart_RetriedAndTheObjectIsWhole()
    {
        State.OssFaults.Enqueue("UploadPart");
        OssClient oss = Client();
        string uploadId = await oss.InitiateAsync("migrations", "j-3/disk0.raw");
        await oss.UploadAsync("migrations", "j-3/disk0.raw", uploadId, _disk.Length, Part, 1, ReadDisk);
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

    private Task ReadDisk(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        _disk.AsMemory((int)offset, buffer.Length).CopyTo(buffer);
        return Task.CompletedTask;
    }

    private OssClient Client(string secret = "test-secret") => new(new HttpClient(), Options(secret), "cn-hangzhou", TimeProvider.System);
}
