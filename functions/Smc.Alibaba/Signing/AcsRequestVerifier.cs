using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Smc.Alibaba.Signing;

/// <summary>A signed request as received: method, path, query and form pairs (decoded), headers, body.</summary>
public sealed record AcsSignedRequest(
    string Method,
    string Path,
    IReadOnlyList<KeyValuePair<string, string>> Query,
    IReadOnlyList<KeyValuePair<string, string>> Form,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body);

/// <summary>A request whose signature holds: who signed it, the action and version, and its parameters (query and form).</summary>
public sealed record AcsVerified(string AccessKeyId, string Action, string Version, IReadOnlyDictionary<string, string> Parameters);

/// <summary>Why a request is refused, as Alibaba's API says it: the HTTP status, its code and message.</summary>
public sealed class AcsRefusedException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}

/// <summary>
/// Checks a request to an Alibaba-style RPC API the way Alibaba's gateway does, for the SMC-compatible façade: either
/// <c>ACS3-HMAC-SHA256</c> (the <c>Authorization</c> header; the signed headers must include <c>host</c>,
/// <c>x-acs-action</c>, <c>x-acs-version</c>, <c>x-acs-date</c>, <c>x-acs-signature-nonce</c> and
/// <c>x-acs-content-sha256</c>, which must be the body's hash) or the RPC signature (<c>SignatureMethod=HMAC-SHA1</c>
/// over every parameter). Both: the key must exist, the time be within <see cref="MaxSkew"/> of now, the nonce unused
/// (<c>SignatureNonceUsed</c>), and the signature equal, compared in constant time. Codes: docs/alibaba-api.md §1, §2, §8.
/// </summary>
public sealed class AcsRequestVerifier(TimeProvider clock)
{
    /// <summary>How far a request's time may be from now (Alibaba's products say 15 minutes).</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    private static readonly string[] RequiredV3Headers = ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"];

    /// <param name="secretOf">The secret of an access key id; null when there is no such key.</param>
    /// <param name="claimNonce">Records a nonce for a key; false when it was used before.</param>
    public async Task<AcsVerified> VerifyAsync(AcsSignedRequest request, Func<string, Task<string?>> secretOf, Func<string, string, Task<bool>> claimNonce)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string v) in request.Query.Concat(request.Form))
        {
            parameters[k] = v;
        }

        return request.Headers.TryGetValue("authorization", out string? authorization) && authorization.StartsWith(AcsSignatureV3.Algorithm, StringComparison.Ordinal)
            ? await V3Async(request, authorization, parameters, secretOf, claimNonce)
            : await V2Async(request, parameters, secretOf, claimNonce);
    }

    private async Task<AcsVerified> V3Async(AcsSignedRequest request, string authorization, Dictionary<string, string> parameters, Func<string, Task<string?>> secretOf, Func<string, string, Task<bool>> claimNonce)
    {
        Dictionary<string, string> fields = authorization[AcsSignatureV3.Algorithm.Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split('=', 2)).Where(f => f.Length == 2).GroupBy(f => f[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
        if (!fields.TryGetValue("Credential", out string? keyId) || !fields.TryGetValue("SignedHeaders", out string? signedList) || !fields.TryGetValue("Signature", out string? signature))
        {
            throw Incomplete("The Authorization header needs Credential, SignedHeaders and Signature.");
        }

        string[] signed = signedList.Split(';');
        string? missing = RequiredV3Headers.FirstOrDefault(h => !signed.Contains(h, StringComparer.Ordinal)) ?? signed.FirstOrDefault(h => !request.Headers.ContainsKey(h));
        if (missing is not null)
        {
            throw Incomplete($"SignedHeaders must list host, x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce and x-acs-content-sha256, each of them sent ({missing} is not).");
        }

        string payload = AcsSignatureV3.PayloadSha256(request.Body);
        if (!string.Equals(request.Headers["x-acs-content-sha256"], payload, StringComparison.OrdinalIgnoreCase))
        {
            throw new AcsRefusedException(400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header is not the SHA-256 of the body.");
        }

        string secret = await KnownAsync(keyId, secretOf);
        (string canonical, string computedHeaders) = AcsSignatureV3.Canonicalize(request.Method, request.Path, request.Query,
            signed.Select(h => new KeyValuePair<string, string>(h, request.Headers[h])), payload);
        string expected = AcsSignatureV3.Signature(canonical, secret);
        if (computedHeaders != signedList || !FixedTimeEquals(expected, signature.ToLowerInvariant()))
        {
            throw new AcsRefusedException(400, "SignatureDoesNotMatch", $"The request signature does not match ours. Our string to sign: '{AcsSignatureV3.Algorithm}\\n{AcsSignatureV3.HashedCanonicalRequest(canonical)}'.");
        }

        await FreshAsync(keyId, request.Headers["x-acs-date"], request.Headers["x-acs-signature-nonce"], claimNonce);
        return new AcsVerified(keyId, request.Headers["x-acs-action"], request.Headers["x-acs-version"], parameters);
    }

    private async Task<AcsVerified> V2Async(AcsSignedRequest request, Dictionary<string, string> parameters, Func<string, Task<string?>> secretOf, Func<string, string, Task<bool>> claimNonce)
    {
        string? Get(string name) => parameters.TryGetValue(name, out string? v) ? v : null;
        if (Get("AccessKeyId") is not { } keyId || Get("Signature") is not { } signature || Get("SignatureNonce") is not { } nonce || Get("Timestamp") is not { } timestamp)
        {
            throw Incomplete("A request is signed: ACS3-HMAC-SHA256 in the Authorization header, or AccessKeyId, SignatureMethod, SignatureVersion, SignatureNonce, Timestamp and Signature as parameters.");
        }

        if (Get("SignatureMethod") != RpcSignatureV2.Method || (Get("SignatureVersion") ?? RpcSignatureV2.Version) != RpcSignatureV2.Version)
        {
            throw Incomplete($"SignatureMethod must be {RpcSignatureV2.Method} with SignatureVersion {RpcSignatureV2.Version} (or sign with ACS3-HMAC-SHA256).");
        }

        string secret = await KnownAsync(keyId, secretOf);
        string stringToSign = RpcSignatureV2.StringToSign(request.Method, parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));
        if (!FixedTimeEquals(RpcSignatureV2.Sign(stringToSign, secret), signature))
        {
            throw new AcsRefusedException(400, "SignatureDoesNotMatch", $"The request signature does not match ours. Our string to sign: '{stringToSign}'.");
        }

        await FreshAsync(keyId, timestamp, nonce, claimNonce);
        parameters.Remove("Signature");
        return new AcsVerified(keyId, Get("Action") ?? "", Get("Version") ?? "", parameters);
    }

    private static async Task<string> KnownAsync(string keyId, Func<string, Task<string?>> secretOf) =>
        await secretOf(keyId) ?? throw new AcsRefusedException(404, "InvalidAccessKeyId.NotFound", $"Specified access key is not found: '{keyId}'. The operator makes keys with POST /api/v1/access-keys.");

    /// <summary>The time within <see cref="MaxSkew"/> of now, and the nonce not used before by this key.</summary>
    private async Task FreshAsync(string keyId, string time, string nonce, Func<string, string, Task<bool>> claimNonce)
    {
        if (!DateTimeOffset.TryParseExact(time, ["yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFF'Z'"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at))
        {
            throw new AcsRefusedException(400, "InvalidTimeStamp.Format", $"Specified time stamp '{time}' is not in the format yyyy-MM-ddTHH:mm:ssZ (UTC).");
        }

        if ((clock.GetUtcNow() - at).Duration() > MaxSkew)
        {
            throw new AcsRefusedException(400, "InvalidTimeStamp.Expired", $"Specified time stamp {time} is more than {MaxSkew.TotalMinutes:0} minutes from the server's time {clock.GetUtcNow():yyyy-MM-dd'T'HH:mm:ss'Z'}: check the caller's clock.");
        }

        if (nonce.Length is 0 or > 128 || !await claimNonce(keyId, nonce))
        {
            throw new AcsRefusedException(400, "SignatureNonceUsed", "Specified signature nonce was used already: each request needs a new one.");
        }
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static AcsRefusedException Incomplete(string message) => new(400, "IncompleteSignature", message);
}
