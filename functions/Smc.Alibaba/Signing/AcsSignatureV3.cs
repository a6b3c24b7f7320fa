using System.Security.Cryptography;
using System.Text;

namespace Smc.Alibaba.Signing;

/// <summary>
/// <c>ACS3-HMAC-SHA256</c>, the current signature of Alibaba's OpenAPI (ECS, SMC, ACR…): a canonical request of method,
/// URI, sorted encoded query, the <c>x-acs-*</c>, <c>host</c> and <c>content-type</c> headers, their names and the
/// body's SHA-256, hashed and signed with HMAC-SHA256 under the AccessKeySecret. Spec: docs/alibaba-api.md §2.
/// </summary>
internal static class AcsSignatureV3
{
    public const string Algorithm = "ACS3-HMAC-SHA256";

    /// <summary>SHA-256 of an empty body, lower-case hex.</summary>
    public const string EmptyPayloadSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <returns>The canonical request and the <c>SignedHeaders</c> list.</returns>
    public static (string CanonicalRequest, string SignedHeaders) Canonicalize(
        string httpMethod,
        string canonicalUri,
        IEnumerable<KeyValuePair<string, string>> query,
        IEnumerable<KeyValuePair<string, string>> headers,
        string payloadSha256)
    {
        string canonicalQuery = string.Join('&', query
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => AcsEncoding.Percent(p.Key) + "=" + AcsEncoding.Percent(p.Value)));
        var signed = headers
            .Select(h => (Name: h.Key.ToLowerInvariant(), Value: h.Value.Trim()))
            .Where(h => h.Name.StartsWith("x-acs-", StringComparison.Ordinal) || h.Name is "host" or "content-type")
            .GroupBy(h => h.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Value: string.Join(", ", g.Select(h => h.Value).Order(StringComparer.Ordinal))))
            .ToList();
        string canonicalHeaders = string.Concat(signed.Select(h => h.Name + ":" + h.Value + "\n"));
        string signedHeaders = string.Join(';', signed.Select(h => h.Name));
        string request = string.Join('\n', httpMethod.ToUpperInvariant(), canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadSha256);
        return (request, signedHeaders);
    }

    public static string HashedCanonicalRequest(string canonicalRequest) =>
        AcsEncoding.LowerHex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)));

    public static string Signature(string canonicalRequest, string accessKeySecret) =>
        AcsEncoding.LowerHex(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(accessKeySecret),
            Encoding.UTF8.GetBytes(Algorithm + "\n" + HashedCanonicalRequest(canonicalRequest))));

    public static string Authorization(string accessKeyId, string signedHeaders, string signature) =>
        $"{Algorithm} Credential={accessKeyId},SignedHeaders={signedHeaders},Signature={signature}";

    public static string PayloadSha256(ReadOnlySpan<byte> body) => AcsEncoding.LowerHex(SHA256.HashData(body));
}
