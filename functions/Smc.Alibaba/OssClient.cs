using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Xml.Linq;
using Polly;
using Polly.Retry;
using Smc.Alibaba.Signing;

namespace Smc.Alibaba;

/// <summary>A part of a multipart upload that OSS has: its number, ETag and size.</summary>
internal sealed record OssPart(int Number, string ETag, long Size);

/// <summary>
/// OSS over its XML REST API with <c>OSS4-HMAC-SHA256</c> header signatures: multipart upload of a disk (parts streamed
/// from the source in parallel, each with its Content-MD5, every part retried on server errors), resumable from the
/// parts OSS lists after a crash, aborted when it can't finish. Virtual-hosted URLs
/// (<c>{bucket}.oss-{region}[-internal].aliyuncs.com</c>), or path-style under an endpoint override (the emulator).
/// </summary>
internal sealed class OssClient(HttpClient http, AlibabaOptions options, string region, TimeProvider clock)
{
    /// <summary>Retries of a part upload (built once: the client uploads thousands of parts). Re-uploading a part number replaces it, so every part may be retried.</summary>
    private readonly ResiliencePipeline _partRetry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        MaxRetryAttempts = Math.Max(1, options.MaxAttempts - 1),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = options.RetryDelay,
        ShouldHandle = new PredicateBuilder().Handle<AlibabaException>(e => e.Kind != AlibabaErrorKind.UserError),
    }).Build();

    /// <summary>OSS's largest part: 5 GiB.</summary>
    public const long MaxPartBytes = 5L << 30;

    /// <summary>Parts per ListParts page (OSS's maximum).</summary>
    internal const int MaxPartsPerList = 1000;

    /// <summary>Starts a multipart upload; returns its uploadId (keep it: it is what resumes the upload).</summary>
    public async Task<string> InitiateAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        XDocument answer = await SendXmlAsync(HttpMethod.Post, bucket, key, [new("uploads", null)], null, cancellationToken);
        return answer.Root!.Element("UploadId")!.Value;
    }

    /// <summary>The parts numbered [<paramref name="firstPart"/>, <paramref name="lastPart"/>] the upload has, following ListParts' pages.</summary>
    public async Task<List<OssPart>> ListPartsAsync(string bucket, string key, string uploadId, int firstPart = 1, int lastPart = int.MaxValue, CancellationToken cancellationToken = default)
    {
        var parts = new List<OssPart>();
        int marker = firstPart - 1;
        while (true)
        {
            int want = (int)Math.Min(MaxPartsPerList, (long)lastPart - marker);
            XDocument answer = await SendXmlAsync(HttpMethod.Get, bucket, key,
                [new("max-parts", want.ToString(CultureInfo.InvariantCulture)), new("part-number-marker", marker.ToString(CultureInfo.InvariantCulture)), new("uploadId", uploadId)], null, cancellationToken);
            XElement root = answer.Root!;
            parts.AddRange(root.Elements("Part").Select(p => new OssPart(
                int.Parse(p.Element("PartNumber")!.Value, CultureInfo.InvariantCulture), p.Element("ETag")!.Value, long.Parse(p.Element("Size")!.Value, CultureInfo.InvariantCulture)))
                .Where(p => p.Number <= lastPart));
            bool truncated = string.Equals(root.Element("IsTruncated")?.Value, "true", StringComparison.OrdinalIgnoreCase);
            int next = int.TryParse(root.Element("NextPartNumberMarker")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : parts.LastOrDefault()?.Number ?? marker;
            if (!truncated || next <= marker || next >= lastPart)
            {
                return parts;
            }

            marker = next;
        }
    }

    /// <summary>Completes the upload with these parts (ascending); the object then exists whole.</summary>
    public async Task CompleteAsync(string bucket, string key, string uploadId, IEnumerable<OssPart> parts, CancellationToken cancellationToken = default)
    {
        var complete = new XElement("CompleteMultipartUpload", parts.OrderBy(p => p.Number).Select(p => new XElement("Part", new XElement("PartNumber", p.Number), new XElement("ETag", p.ETag))));
        await SendXmlAsync(HttpMethod.Post, bucket, key, [new("uploadId", uploadId)], System.Text.Encoding.UTF8.GetBytes(complete.ToString(SaveOptions.DisableFormatting)), cancellationToken);
    }

    /// <summary>The object's size, or null when it doesn't exist.</summary>
    public async Task<long?> GetObjectSizeAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        try
        {
            using HttpResponseMessage response = await SendAsync(HttpMethod.Head, bucket, key, [], null, cancellationToken);
            return response.Content.Headers.ContentLength;
        }
        catch (AlibabaException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Uploads [0, length) of a source in parts of <paramref name="partSize"/> bytes, <paramref name="parallelism"/> at a
    /// time, skipping parts OSS already has with the right size (a resumed upload), then completes it. Each part is
    /// streamed from a stream <paramref name="open"/> gives (seekable, disposed after the part) — never a part in memory.
    /// </summary>
    /// <returns>The parts uploaded by this call (not those found already there).</returns>
    public async Task<int> UploadAsync(string bucket, string key, string uploadId, long length, long partSize, int parallelism,
        Func<Stream> open, CancellationToken cancellationToken = default)
    {
        int count = checked((int)((length + partSize - 1) / partSize));
        var have = (await ListPartsAsync(bucket, key, uploadId, cancellationToken: cancellationToken)).ToDictionary(p => p.Number);
        var parts = new OssPart[count];
        int sent = 0;
        await Parallel.ForEachAsync(Enumerable.Range(1, count), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (number, ct) =>
        {
            long offset = (number - 1) * partSize;
            long size = Math.Min(partSize, length - offset);
            if (have.TryGetValue(number, out OssPart? done) && done.Size == size)
            {
                parts[number - 1] = done;
                return;
            }

            await using Stream source = open();
            string etag = await UploadPartAsync(bucket, key, uploadId, number, source, offset, size, ct);
            parts[number - 1] = new OssPart(number, etag, size);
            Interlocked.Increment(ref sent);
        });

        await CompleteAsync(bucket, key, uploadId, parts, cancellationToken);
        return sent;
    }

    public async Task AbortAsync(string bucket, string key, string uploadId, CancellationToken cancellationToken = default) =>
        await SendXmlAsync(HttpMethod.Delete, bucket, key, [new("uploadId", uploadId)], null, cancellationToken);

    public async Task DeleteObjectAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
        await SendXmlAsync(HttpMethod.Delete, bucket, key, [], null, cancellationToken);

    /// <summary>
    /// Uploads one part, the <paramref name="length"/> bytes of <paramref name="source"/> (seekable) from
    /// <paramref name="offset"/>, and returns its ETag; re-sending a part number replaces it. The part is read twice
    /// through one bounded buffer — once for its Content-MD5 (a header, so known before the body), once as the body — so
    /// memory doesn't grow with the part size (up to OSS's 5 GiB).
    /// </summary>
    public async Task<string> UploadPartAsync(string bucket, string key, string uploadId, int number, Stream source, long offset, long length, CancellationToken cancellationToken = default)
    {
        if (length is < 0 or > MaxPartBytes || offset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"A part is 0–{MaxPartBytes} bytes at a non-negative offset (asked {length} at {offset}).");
        }

        byte[] md5 = await PartStream.Md5Async(source, offset, length, cancellationToken);
        return await _partRetry.ExecuteAsync(async ct =>
        {
            source.Position = offset;
            using var content = new StreamContent(new PartStream(source, length), PartStream.BufferBytes);
            content.Headers.ContentLength = length;
            content.Headers.ContentMD5 = md5;
            using HttpResponseMessage response = await SendAsync(HttpMethod.Put, bucket, key,
                [new("partNumber", number.ToString(CultureInfo.InvariantCulture)), new("uploadId", uploadId)], content, ct);
            return response.Headers.ETag?.Tag ?? throw new AlibabaException(200, "MissingETag", $"OSS answered part {number} without an ETag.", null);
        }, cancellationToken);
    }

    private async Task<XDocument> SendXmlAsync(HttpMethod method, string bucket, string key, KeyValuePair<string, string?>[] query, byte[]? body, CancellationToken cancellationToken)
    {
        using HttpContent? content = body is null ? null : new ByteArrayContent(body) { Headers = { ContentMD5 = MD5Of(body) } };
        using HttpResponseMessage response = await SendAsync(method, bucket, key, query, content, cancellationToken);
        string text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? new XDocument(new XElement("Empty")) : XDocument.Parse(text);
    }

#pragma warning disable CA5351 // Content-MD5 is OSS's integrity check of a body on the wire, not a security measure.
    private static byte[] MD5Of(byte[] body) => MD5.HashData(body);
#pragma warning restore CA5351

    /// <summary>Sends a signed request; a <paramref name="content"/> carries its Content-MD5 (signed) and stays the caller's to dispose.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string bucket, string key, KeyValuePair<string, string?>[] query, HttpContent? content, CancellationToken cancellationToken)
    {
        bool pathStyle = options.OssEndpoint is not null;
        Uri baseUri = options.OssEndpoint ?? new Uri($"https://{bucket}.oss-{region}{(options.UseVpcEndpoint ? "-internal" : "")}.aliyuncs.com");
        string path = (pathStyle ? $"/{bucket}/" : "/") + AcsEncoding.Percent(key, keepSlash: true);
        string queryText = string.Join('&', query.Select(q => q.Value is null ? AcsEncoding.Percent(q.Key) : AcsEncoding.Percent(q.Key) + "=" + AcsEncoding.Percent(q.Value)));
        var request = new HttpRequestMessage(method, new Uri(baseUri, path + (queryText.Length > 0 ? "?" + queryText : "")));
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (options.SecurityToken is { } token)
        {
            headers[OssSignatureV4.SecurityTokenHeader] = token;
        }

        if (content is not null)
        {
            request.Content = content;
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            headers["content-md5"] = Convert.ToBase64String(content.Headers.ContentMD5 ?? throw new InvalidOperationException("A body is sent with its Content-MD5."));
            headers["content-type"] = "application/octet-stream";
        }

        (string authorization, _) = OssSignatureV4.Sign(method.Method, bucket, key, query, headers, [], options.AccessKeyId, options.AccessKeySecret, region, clock.GetUtcNow());
        foreach ((string name, string value) in headers.Where(h => h.Key is not ("content-md5" or "content-type")))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            request.Dispose();
            throw new AlibabaException(0, "NetworkError", $"OSS at {baseUri.Host} could not be reached ({e.Message}).", null, null, e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken);
            string code = $"Http{(int)response.StatusCode}", message = text;
            string? requestId = null;
            try
            {
                XElement error = XDocument.Parse(text).Root!;
                code = error.Element("Code")?.Value ?? code;
                message = error.Element("Message")?.Value ?? message;
                requestId = error.Element("RequestId")?.Value;
            }
            catch (System.Xml.XmlException)
            {
            }

            throw new AlibabaException((int)response.StatusCode, code, message, requestId);
        }
    }
}
