using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Smc.Alibaba.Signing;

/// <summary>
/// OSS's <c>OSS4-HMAC-SHA256</c> header signature: a canonical request (URI <c>/bucket/key</c>, sorted encoded query with
/// bare keys for empty values, the <c>x-oss-*</c>, <c>content-type</c>, <c>content-md5</c> and additional headers, the
/// payload hash header), a string to sign over the scope <c>date/region/oss/aliyun_v4_request</c>, and a key derived
/// from <c>"aliyun_v4" + secret</c>. Spec: docs/alibaba-api.md §5.3.
/// </summary>
internal static class OssSignatureV4
{
    public const string Algorithm = "OSS4-HMAC-SHA256", UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string DateHeader = "x-oss-date", ContentSha256Header = "x-oss-content-sha256", SecurityTokenHeader = "x-oss-security-token";

    /// <summary>The canonical URI: <c>/bucket/key</c> with the key RFC 3986-encoded, <c>/</c> kept.</summary>
    public static string CanonicalUri(string? bucket, string? key) =>
        bucket is null ? "/" : $"/{bucket}/{AcsEncoding.Percent(key ?? "", keepSlash: true)}";

    public static string CanonicalQuery(IEnumerable<KeyValuePair<string, string?>> query) =>
        string.Join('&', query
            .Select(p => (Key: AcsEncoding.Percent(p.Key), Value: string.IsNullOrEmpty(p.Value) ? null : AcsEncoding.Percent(p.Value)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Value is null ? p.Key : p.Key + "=" + p.Value));

    /// <summary>
    /// Signs a request at <paramref name="time"/>: sets its <c>x-oss-date</c> header (and <c>x-oss-content-sha256</c> to
    /// <c>UNSIGNED-PAYLOAD</c> when absent) and returns the <c>Authorization</c> header value and the canonical request.
    /// </summary>
    /// <param name="headers">The request's headers by name; changed as said.</param>
    /// <param name="additionalHeaders">Other headers to sign (lower-case names), listed as <c>AdditionalHeaders</c>.</param>
    public static (string Authorization, string CanonicalRequest) Sign(
        string httpMethod,
        string? bucket,
        string? key,
        IEnumerable<KeyValuePair<string, string?>> query,
        IDictionary<string, string> headers,
        IReadOnlyCollection<string> additionalHeaders,
        string accessKeyId,
        string accessKeySecret,
        string region,
        DateTimeOffset time)
    {
        string stamp = time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string date = stamp[..8];
        headers[DateHeader] = stamp;
        if (!headers.Keys.Any(k => k.Equals(ContentSha256Header, StringComparison.OrdinalIgnoreCase)))
        {
            headers[ContentSha256Header] = UnsignedPayload;
        }

        var additional = additionalHeaders.Select(h => h.ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var signed = headers
            .Select(h => (Name: h.Key.ToLowerInvariant(), Value: h.Value.Trim()))
            .Where(h => h.Name.StartsWith("x-oss-", StringComparison.Ordinal) || h.Name is "content-type" or "content-md5" || additional.Contains(h.Name))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
        string payload = signed.First(h => h.Name == ContentSha256Header).Value;
        string canonical = string.Join('\n',
            httpMethod.ToUpperInvariant(),
            CanonicalUri(bucket, key),
            CanonicalQuery(query),
            string.Concat(signed.Select(h => h.Name + ":" + h.Value + "\n")),
            string.Join(';', additional),
            payload);

        string scope = $"{date}/{region}/oss/aliyun_v4_request";
        string stringToSign = string.Join('\n', Algorithm, stamp, scope, AcsEncoding.LowerHex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))));
        byte[] signingKey = Hmac(Hmac(Hmac(Hmac(Encoding.UTF8.GetBytes("aliyun_v4" + accessKeySecret), date), region), "oss"), "aliyun_v4_request");
        string signature = AcsEncoding.LowerHex(Hmac(signingKey, stringToSign));
        string authorization = $"{Algorithm} Credential={accessKeyId}/{scope}"
            + (additional.Count > 0 ? $",AdditionalHeaders={string.Join(';', additional)}" : "")
            + $",Signature={signature}";
        return (authorization, canonical);
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
}
