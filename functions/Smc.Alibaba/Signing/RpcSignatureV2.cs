using System.Security.Cryptography;
using System.Text;

namespace Smc.Alibaba.Signing;

/// <summary>
/// The RPC signature Alibaba's docs call "V2" (wire: <c>SignatureMethod=HMAC-SHA1</c>, <c>SignatureVersion=1.0</c>):
/// every parameter but <c>Signature</c> (query and form body merged), sorted ordinally, percent-encoded, joined, and
/// encoded once more into <c>METHOD&amp;%2F&amp;…</c>; signed with HMAC-SHA1 under <c>AccessKeySecret + "&amp;"</c>.
/// Spec: docs/alibaba-api.md §1.
/// </summary>
internal static class RpcSignatureV2
{
    public const string Method = "HMAC-SHA1", Version = "1.0";

    public static string StringToSign(string httpMethod, IEnumerable<KeyValuePair<string, string?>> parameters)
    {
        IEnumerable<string> pairs = parameters
            .Where(p => p.Value is not null && p.Key != "Signature")
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => AcsEncoding.Percent(p.Key) + "=" + AcsEncoding.Percent(p.Value!));
        return httpMethod.ToUpperInvariant() + "&" + AcsEncoding.Percent("/") + "&" + AcsEncoding.Percent(string.Join('&', pairs));
    }

    /// <summary>Base64 of HMAC-SHA1(<paramref name="accessKeySecret"/> + "&amp;", <paramref name="stringToSign"/>).</summary>
    public static string Sign(string stringToSign, string accessKeySecret) => Hmac(stringToSign, accessKeySecret + "&");

    /// <summary>The bare HMAC-SHA1 in Base64, the key used as given.</summary>
#pragma warning disable CA5350 // HMAC-SHA1 is what this signature scheme is; ACS3-HMAC-SHA256 is the default (AcsSignatureV3).
    public static string Hmac(string text, string key) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350
}
