using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Smc.Alibaba.Emulator;

/// <summary>
/// Checks a request the way Alibaba's gateway does, written from docs/alibaba-api.md §1–§2 without the client's
/// signer: ACS3-HMAC-SHA256 from the Authorization header, or the RPC HMAC-SHA1 scheme from the parameters; then the
/// timestamp window and nonce reuse. Encoding here uses the framework's RFC 3986 <see cref="Uri.EscapeDataString"/>.
/// </summary>
internal sealed class RequestVerifier(EmulatorState state)
{
    /// <summary>The checked request: its action and flat parameters; or an error (status, code, message).</summary>
    public (string? Action, Dictionary<string, string> Parameters, (int Status, string Code, string Message)? Error) Verify(HttpRequest request, byte[] body)
    {
        Dictionary<string, string> parameters = ParseQuery(request.QueryString.Value);
        if (request.HasFormContentType || (request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal) ?? false))
        {
            foreach ((string k, string v) in ParseQuery("?" + Encoding.UTF8.GetString(body)))
            {
                parameters[k] = v;
            }
        }

        string? authorization = request.Headers.Authorization.FirstOrDefault();
        return authorization is not null && authorization.StartsWith("ACS3-HMAC-SHA256 ", StringComparison.Ordinal)
            ? VerifyV3(request, body, parameters, authorization)
            : VerifyRpc(request.Method, parameters);
    }

    private (string?, Dictionary<string, string>, (int, string, string)?) VerifyV3(HttpRequest request, byte[] body, Dictionary<string, string> parameters, string authorization)
    {
        var fields = authorization["ACS3-HMAC-SHA256 ".Length..].Split(',').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0].Trim(), f => f[1].Trim());
        if (!fields.TryGetValue("Credential", out string? keyId) || !fields.TryGetValue("SignedHeaders", out string? signedList) || !fields.TryGetValue("Signature", out string? signature))
        {
            return Fail(400, "IncompleteSignature", "The Authorization header needs Credential, SignedHeaders and Signature.");
        }

        if (!state.Accounts.TryGetValue(keyId, out string? secret))
        {
            return Fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
        }

        string[] signed = signedList.Split(';');
        string[] mustSign = [.. request.Headers.Keys.Select(k => k.ToLowerInvariant()).Where(k => k.StartsWith("x-acs-", StringComparison.Ordinal) || k == "host")];
        if (mustSign.Except(signed, StringComparer.Ordinal).FirstOrDefault() is { } unsigned)
        {
            return Fail(400, "IncompleteSignature", $"The header {unsigned} must be signed.");
        }

        string bodyHash = Convert.ToHexString(SHA256.HashData(body)).ToLowerInvariant();
        if (request.Headers["x-acs-content-sha256"].ToString() != bodyHash)
        {
            return Fail(400, "InvalidParameter.ContentSha256", "x-acs-content-sha256 is not the SHA-256 of the body.");
        }

        var canonical = new StringBuilder();
        canonical.Append(request.Method.ToUpperInvariant()).Append('\n').Append(request.Path.HasValue ? request.Path.Value : "/").Append('\n');
        canonical.Append(string.Join("&", ParseQuery(request.QueryString.Value).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)))).Append('\n');
        foreach (string name in signed)
        {
            IEnumerable<string> values = request.Headers.TryGetValue(name, out var v) ? v.Select(x => (x ?? "").Trim()).Order(StringComparer.Ordinal) : [];
            canonical.Append(name).Append(':').Append(string.Join(", ", values)).Append('\n');
        }

        canonical.Append('\n').Append(signedList).Append('\n').Append(bodyHash);
        string toSign = "ACS3-HMAC-SHA256\n" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString()))).ToLowerInvariant();
        string expected = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(toSign))).ToLowerInvariant();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            return Fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
        }

        (int, string, string)? replay = CheckFreshness(request.Headers["x-acs-date"].ToString(), request.Headers["x-acs-signature-nonce"].ToString());
        return replay is null ? (request.Headers["x-acs-action"].ToString(), parameters, null) : (null, parameters, replay);
    }

    private (string?, Dictionary<string, string>, (int, string, string)?) VerifyRpc(string method, Dictionary<string, string> parameters)
    {
        foreach (string required in new[] { "Action", "AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp" })
        {
            if (!parameters.ContainsKey(required))
            {
                return Fail(400, "MissingParameter", $"The input parameter \"{required}\" that is mandatory for processing this request is not supplied.");
            }
        }

        if (parameters["SignatureMethod"] != "HMAC-SHA1")
        {
            return Fail(400, "InvalidParameter.SignatureMethod", "SignatureMethod must be HMAC-SHA1.");
        }

        if (!state.Accounts.TryGetValue(parameters["AccessKeyId"], out string? secret))
        {
            return Fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
        }

        string canonical = string.Join("&", parameters.Where(p => p.Key != "Signature").OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
        string toSign = method.ToUpperInvariant() + "&" + Uri.EscapeDataString("/") + "&" + Uri.EscapeDataString(canonical);
#pragma warning disable CA5350 // The RPC scheme is HMAC-SHA1 by definition.
        string expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret + "&"), Encoding.UTF8.GetBytes(toSign)));
#pragma warning restore CA5350
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parameters["Signature"])))
        {
            return Fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
        }

        (int, string, string)? replay = CheckFreshness(parameters["Timestamp"], parameters["SignatureNonce"]);
        var operation = parameters.Where(p => p.Key is not ("Action" or "Version" or "Format" or "AccessKeyId" or "Signature" or "SignatureMethod" or "SignatureVersion" or "SignatureNonce" or "Timestamp" or "SecurityToken"))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return replay is null ? (parameters["Action"], operation, null) : (null, operation, replay);
    }

    private (int, string, string)? CheckFreshness(string timestamp, string nonce)
    {
        if (!DateTimeOffset.TryParseExact(timestamp, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at))
        {
            return (400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.");
        }

        DateTimeOffset now = state.Clock.GetUtcNow();
        if ((now - at).Duration() > state.AllowedSkew)
        {
            return (400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
        }

        foreach (var old in state.Nonces.Where(n => now - n.Value > 2 * state.AllowedSkew))
        {
            state.Nonces.TryRemove(old.Key, out _);
        }

        return string.IsNullOrEmpty(nonce) || !state.Nonces.TryAdd(nonce, now)
            ? (400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            : null;
    }

    private static (string?, Dictionary<string, string>, (int, string, string)?) Fail(int status, string code, string message) => (null, [], (status, code, message));

    private static Dictionary<string, string> ParseQuery(string? query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in (query ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            result[Uri.UnescapeDataString(kv[0])] = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
        }

        return result;
    }
}
