#:project ../functions/Smc.Alibaba/Smc.Alibaba.csproj
#:property PublishAot=false

// Benchmark (not a test), step (h) of scripts/bench.sh: the control plane's memory while it uploads export parts to
// OSS, against the disk's size. Usage: dotnet run scripts/bench-export.cs -- DISK_BYTES PARTS
// A disk of DISK_BYTES of zeros stands for the assembled disk (a sparse file can't: ext4 stops at 16 TiB); PARTS
// parts of the size the export picks for that disk (AlibabaRules.PartSizeFor) are uploaded OssUploadSteps.PartParallelism at a time through the real OSS client
// (AlibabaCloudImages: signing, Content-MD5, retries) to an in-process sink that reads every body to its end and
// checks its MD5. Prints one JSON line: part size, bytes sent, seconds, peak RSS (VmHWM) and bytes allocated.
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Smc.Alibaba;
using Smc.Core.Ports;
using Smc.Core.Services;

long diskBytes = long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
int parts = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
long partSize = AlibabaRules.PartSizeFor(diskBytes) ?? throw new ArgumentOutOfRangeException(nameof(args), "OSS can't hold a disk that large in one object.");
var options = new AlibabaOptions { AccessKeyId = "bench", AccessKeySecret = "bench", OssEndpoint = new Uri("http://oss.bench.invalid/"), OssBucket = "bench" };
using var http = new HttpClient(new Sink());
var cloud = new AlibabaCloudImages(http, options, TimeProvider.System);
var target = new CloudObject("cn-hangzhou", "bench", "disk0.raw");
var clock = Stopwatch.StartNew();
long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
int workers = Math.Min(OssUploadSteps.PartParallelism, parts);
long sent = 0;
await Parallel.ForEachAsync(Enumerable.Range(0, workers), async (w, ct) =>
{
    await using var disk = new ZeroDisk(diskBytes);
    for (int number = w + 1; number <= parts; number += workers)
    {
        long offset = (number - 1) * partSize, length = Math.Min(partSize, diskBytes - offset);
        await cloud.UploadPartAsync(target, "bench-upload", number, disk, offset, length, ct);
        Interlocked.Add(ref sent, length);
    }
});

long peakRss = File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
    .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024).Single();
Console.WriteLine(JsonSerializer.Serialize(new
{
    diskBytes,
    partSize,
    parts,
    parallelism = workers,
    sentBytes = sent,
    seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
    peakRssMiB = peakRss >> 20,
    allocatedMiB = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) >> 20,
}));

/// <summary>OSS as far as a part upload needs it: reads the body to its end, checks its Content-MD5, answers its ETag.</summary>
internal sealed class Sink : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[1 << 20];
#pragma warning disable CA5351 // OSS's Content-MD5 is MD5 by definition.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
        await using Stream body = await request.Content!.ReadAsStreamAsync(cancellationToken);
        for (int read; (read = await body.ReadAsync(buffer, cancellationToken)) > 0;)
        {
            md5.AppendData(buffer, 0, read);
        }

        byte[] hash = md5.GetHashAndReset();
        if (!hash.AsSpan().SequenceEqual(request.Content.Headers.ContentMD5))
        {
            return new HttpResponseMessage(HttpStatusCode.BadRequest) { Content = new StringContent("<Error><Code>InvalidDigest</Code></Error>") };
        }

        var response = new HttpResponseMessage(HttpStatusCode.OK);
        response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue($"\"{Convert.ToHexString(hash)}\"");
        return response;
    }
}

/// <summary>A seekable disk of zeros: what the image store gives for a disk's unused space, at any size.</summary>
internal sealed class ZeroDisk(long length) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get; set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Clamp(length - Position, 0, buffer.Length);
        buffer[..n].Clear();
        Position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => Position + offset,
        _ => length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
