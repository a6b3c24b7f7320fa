using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;

namespace Smc.Alibaba.Emulator;

/// <summary>
/// Emulated OSS, path-style (<c>/{bucket}/{key}</c>): simple PUT/GET/HEAD/DELETE of objects and the multipart upload
/// (initiate, upload part, list parts, complete, abort) of docs/alibaba-api.md §5.1, each request checked for an
/// <c>OSS4-HMAC-SHA256</c> signature with this class's own code (§5.3). Errors are OSS's XML.
/// </summary>
internal sealed class OssEmulator(EmulatorState state)
{
    private readonly ConcurrentDictionary<string, Upload> _uploads = new(StringComparer.Ordinal);

#pragma warning disable CA5351 // OSS's Content-MD5 and part ETags are MD5 by definition.
    public async Task<IResult> HandleAsync(HttpContext http, string bucket, string key)
    {
        HttpRequest request = http.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        byte[] body = buffer.ToArray();
        if (Verify(request, bucket, key) is { } refused)
        {
            return refused;
        }

        Dictionary<string, string?> query = Query(request.QueryString.Value);
        string op = (request.Method, query.ContainsKey("uploads"), query.ContainsKey("uploadId"), query.ContainsKey("partNumber")) switch
        {
            ("POST", true, _, _) => "InitiateMultipartUpload",
            ("PUT", _, true, true) => "UploadPart",
            ("POST", _, true, _) => "CompleteMultipartUpload",
            ("DELETE", _, true, _) => "AbortMultipartUpload",
            ("GET", _, true, _) => "ListParts",
            ("PUT", _, _, _) => "PutObject",
            ("GET", _, _, _) => "GetObject",
            ("HEAD", _, _, _) => "HeadObject",
            ("DELETE", _, _, _) => "DeleteObject",
            _ => "Unknown",
        };
        state.Calls.AddOrUpdate("oss:" + op, 1, (_, n) => n + 1);
        if (state.OssFaults.TryPeek(out string? fault) && fault == op && state.OssFaults.TryDequeue(out _))
        {
            return Error(500, "InternalError", "We encountered an internal error. Please try again.");
        }

        if (!state.OssBuckets.ContainsKey(bucket))
        {
            return Error(404, "NoSuchBucket", "The specified bucket does not exist.");
        }

        string name = $"{bucket}/{key}";
        switch (op)
        {
            case "InitiateMultipartUpload":
                {
                    string id = Guid.NewGuid().ToString("N").ToUpperInvariant();
                    _uploads[id] = new Upload(name);
                    return Xml(new XElement("InitiateMultipartUploadResult", new XElement("Bucket", bucket), new XElement("Key", key), new XElement("UploadId", id)));
                }

            case "UploadPart":
                {
                    if (!_uploads.TryGetValue(query["uploadId"]!, out Upload? upload) || upload.Object != name)
                    {
                        return Error(404, "NoSuchUpload", "The specified upload does not exist.");
                    }

                    if (!int.TryParse(query["partNumber"], NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 10000)
                    {
                        return Error(400, "InvalidArgument", "partNumber must be 1–10000.");
                    }

                    if (request.Headers.ContentMD5.FirstOrDefault() is { } md5 && md5 != Convert.ToBase64String(MD5.HashData(body)))
                    {
                        return Error(400, "InvalidDigest", "The Content-MD5 you specified did not match what we received.");
                    }

                    if (state.HoldPartsAfter is int hold && Interlocked.Increment(ref state.PartsAdmitted) > hold)
                    {
                        state.PartsHeld.TrySetResult();
                        await state.PartGate.Task;
                        if (http.RequestAborted.IsCancellationRequested)
                        {
                            return Results.Empty;
                        }
                    }

                    string etag = $"\"{Convert.ToHexString(MD5.HashData(body))}\"";
                    upload.Parts[number] = (body, etag);
                    state.PartUploads.AddOrUpdate($"{name}#{number}", 1, (_, n) => n + 1);
                    http.Response.Headers.ETag = etag;
                    return Results.Ok();
                }

            case "ListParts":
                {
                    if (!_uploads.TryGetValue(query["uploadId"]!, out Upload? upload))
                    {
                        return Error(404, "NoSuchUpload", "The specified upload does not exist.");
                    }

                    // Pages as OSS pages them: max-parts (≤ 1000, and the emulator's own cap), after part-number-marker.
                    int marker = int.TryParse(query.GetValueOrDefault("part-number-marker"), NumberStyles.None, CultureInfo.InvariantCulture, out int m) ? m : 0;
                    int max = Math.Min(state.ListPartsPageLimit, int.TryParse(query.GetValueOrDefault("max-parts"), NumberStyles.None, CultureInfo.InvariantCulture, out int x) ? Math.Min(x, 1000) : 1000);
                    var after = upload.Parts.Where(p => p.Key > marker).OrderBy(p => p.Key).ToList();
                    var page = after.Take(max).ToList();
                    bool truncated = after.Count > page.Count;
                    return Xml(new XElement("ListPartsResult", new XElement("Bucket", bucket), new XElement("Key", key), new XElement("UploadId", query["uploadId"]),
                        new XElement("PartNumberMarker", marker), new XElement("MaxParts", max),
                        new XElement("IsTruncated", truncated ? "true" : "false"),
                        truncated ? new XElement("NextPartNumberMarker", page[^1].Key) : null,
                        page.Select(p => new XElement("Part", new XElement("PartNumber", p.Key), new XElement("ETag", p.Value.ETag), new XElement("Size", p.Value.Bytes.Length)))));
                }

            case "CompleteMultipartUpload":
                {
                    if (!_uploads.TryGetValue(query["uploadId"]!, out Upload? upload))
                    {
                        return Error(404, "NoSuchUpload", "The specified upload does not exist.");
                    }

                    var listed = XDocument.Parse(Encoding.UTF8.GetString(body)).Root!.Elements("Part")
                        .Select(p => (Number: int.Parse(p.Element("PartNumber")!.Value, CultureInfo.InvariantCulture), ETag: p.Element("ETag")!.Value)).ToList();
                    if (listed.Count == 0 || !listed.Select(p => p.Number).SequenceEqual(listed.Select(p => p.Number).Order()))
                    {
                        return Error(400, "InvalidPartOrder", "The list of parts was not in ascending order.");
                    }

                    foreach ((int number, string etag) in listed)
                    {
                        if (!upload.Parts.TryGetValue(number, out var part) || part.ETag != etag)
                        {
                            return Error(400, "InvalidPart", $"Part {number} was not uploaded, or its ETag does not match.");
                        }
                    }

                    state.OssObjects[name] = [.. listed.SelectMany(p => upload.Parts[p.Number].Bytes)];
                    _uploads.TryRemove(query["uploadId"]!, out _);
                    return Xml(new XElement("CompleteMultipartUploadResult", new XElement("Bucket", bucket), new XElement("Key", key), new XElement("ETag", $"\"{Guid.NewGuid():N}\"")));
                }

            case "AbortMultipartUpload":
                return _uploads.TryRemove(query["uploadId"]!, out _) ? Results.NoContent() : Error(404, "NoSuchUpload", "The specified upload does not exist.");

            case "PutObject":
                state.OssObjects[name] = body;
                return Results.Ok();

            case "GetObject" or "HeadObject":
                if (!state.OssObjects.TryGetValue(name, out byte[]? bytes))
                {
                    return op == "HeadObject" ? Results.StatusCode(404) : Error(404, "NoSuchKey", "The specified key does not exist.");
                }

                if (op == "HeadObject")
                {
                    http.Response.ContentLength = bytes.Length;
                    return Results.Empty;
                }

                return Results.Bytes(bytes);

            case "DeleteObject":
                state.OssObjects.TryRemove(name, out _);
                return Results.NoContent();

            default:
                return Error(400, "InvalidRequest", "Unsupported request.");
        }
    }

#pragma warning restore CA5351

    /// <summary>Multipart uploads not completed or aborted (a test checks nothing is left half-made).</summary>
    public int OpenUploads => _uploads.Count;

    private IResult? Verify(HttpRequest request, string bucket, string key)
    {
        string authorization = request.Headers.Authorization.ToString();
        const string Prefix = "OSS4-HMAC-SHA256 ";
        if (!authorization.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return Error(403, "AccessDenied", "Authorization header OSS4-HMAC-SHA256 is missing.");
        }

        var fields = authorization[Prefix.Length..].Split(',').Select(f => f.Trim().Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
        string[] credential = fields.GetValueOrDefault("Credential", "").Split('/');
        if (credential.Length != 5 || credential[3] != "oss" || credential[4] != "aliyun_v4_request" || !fields.TryGetValue("Signature", out string? signature))
        {
            return Error(403, "AccessDenied", "Malformed Credential in the Authorization header.");
        }

        if (!state.Accounts.TryGetValue(credential[0], out string? secret))
        {
            return Error(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.");
        }

        string stamp = request.Headers["x-oss-date"].ToString();
        if (!DateTimeOffset.TryParseExact(stamp, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at)
            || stamp[..8] != credential[1])
        {
            return Error(403, "AccessDenied", "x-oss-date is missing or does not match the credential's date.");
        }

        if ((state.Clock.GetUtcNow() - at).Duration() > TimeSpan.FromMinutes(15))
        {
            return Error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
        }

        var additional = fields.TryGetValue("AdditionalHeaders", out string? a) ? a.Split(';').ToHashSet(StringComparer.Ordinal) : [];
        string headers = string.Concat(request.Headers
            .Select(h => (Name: h.Key.ToLowerInvariant(), Value: h.Value.ToString().Trim()))
            .Where(h => h.Name.StartsWith("x-oss-", StringComparison.Ordinal) || h.Name is "content-type" or "content-md5" || additional.Contains(h.Name))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .Select(h => $"{h.Name}:{h.Value}\n"));
        string query = string.Join("&", Query(request.QueryString.Value)
            .Select(p => (Key: Uri.EscapeDataString(p.Key), Value: string.IsNullOrEmpty(p.Value) ? null : Uri.EscapeDataString(p.Value)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Value is null ? p.Key : $"{p.Key}={p.Value}"));
        string uri = "/" + bucket + "/" + string.Join("/", key.Split('/').Select(Uri.EscapeDataString));
        string canonical = $"{request.Method}\n{uri}\n{query}\n{headers}\n{string.Join(";", additional.Order(StringComparer.Ordinal))}\n{request.Headers["x-oss-content-sha256"]}";
        string scope = $"{credential[1]}/{credential[2]}/oss/aliyun_v4_request";
        string toSign = $"OSS4-HMAC-SHA256\n{stamp}\n{scope}\n{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))).ToLowerInvariant()}";
        byte[] k = Encoding.UTF8.GetBytes("aliyun_v4" + secret);
        foreach (string part in new[] { credential[1], credential[2], "oss", "aliyun_v4_request" })
        {
            k = HMACSHA256.HashData(k, Encoding.UTF8.GetBytes(part));
        }

        string expected = Convert.ToHexString(HMACSHA256.HashData(k, Encoding.UTF8.GetBytes(toSign))).ToLowerInvariant();
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature))
            ? null
            : Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
    }

    private static Dictionary<string, string?> Query(string? raw)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (string pair in (raw ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            result[Uri.UnescapeDataString(kv[0])] = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : null;
        }

        return result;
    }

    private static IResult Xml(XElement root) => Results.Text(new XDocument(new XDeclaration("1.0", "UTF-8", null), root).ToString(), "application/xml");

    private static IResult Error(int status, string code, string message) =>
        Results.Text(new XElement("Error", new XElement("Code", code), new XElement("Message", message), new XElement("RequestId", Emulated.RequestId()), new XElement("HostId", "oss.emulator")).ToString(),
            "application/xml", statusCode: status);

    private sealed class Upload(string objectName)
    {
        public string Object { get; } = objectName;

        public ConcurrentDictionary<int, (byte[] Bytes, string ETag)> Parts { get; } = new();
    }
}
