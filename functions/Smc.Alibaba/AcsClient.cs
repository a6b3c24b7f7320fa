using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Smc.Alibaba.Signing;

namespace Smc.Alibaba;

/// <summary>One Alibaba Cloud OpenAPI call: where, how (RPC <c>POST /?params</c> or a ROA path), which action of which API version.</summary>
internal sealed record AcsRequest(Uri Endpoint, HttpMethod Method, string Path, string Action, string Version, IReadOnlyDictionary<string, string> Query)
{
    /// <summary>RPC style: every parameter in the query of <c>POST /</c> (the RPC HMAC-SHA1 scheme applies only to these).</summary>
    public bool IsRpc => Path == "/";
}

/// <summary>
/// Alibaba Cloud's OpenAPI over HTTP, for any product (ECS, Container Registry): every call signed (ACS3-HMAC-SHA256 by
/// default, or for RPC-style calls the RPC HMAC-SHA1 scheme), JSON answers, errors classified by
/// <see cref="AlibabaException"/>, throttling retried after the delay the service names, server errors retried only for
/// calls the caller says may be repeated (idempotent, or carrying a <c>ClientToken</c>). Spec: docs/alibaba-api.md §0–§3.
/// </summary>
internal sealed class AcsClient(HttpClient http, AlibabaOptions options, TimeProvider clock)
{
    private readonly ResiliencePipeline _repeatable = Pipeline(options, repeatable: true), _once = Pipeline(options, repeatable: false);

    /// <param name="repeatable">Safe to repeat after a server error (Describe*, or made so with a ClientToken).</param>
    public Task<JsonElement> CallAsync(AcsRequest request, bool repeatable, CancellationToken cancellationToken = default) =>
        options.MaxAttempts <= 1 ? SendAsync(request, cancellationToken)
            : (repeatable ? _repeatable : _once).ExecuteAsync(async token => await SendAsync(request, token), cancellationToken).AsTask();

    private static ResiliencePipeline Pipeline(AlibabaOptions options, bool repeatable) => options.MaxAttempts <= 1 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        MaxRetryAttempts = options.MaxAttempts - 1,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = options.RetryDelay,
        ShouldHandle = new PredicateBuilder().Handle<AlibabaException>(e =>
            e.Kind == AlibabaErrorKind.Throttled || (e.Kind == AlibabaErrorKind.Transient && repeatable)),
        DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is AlibabaException { RetryAfter: { } after } ? after : (TimeSpan?)null),
    }).Build();

    private async Task<JsonElement> SendAsync(AcsRequest call, CancellationToken cancellationToken)
    {
        Uri endpoint = call.Endpoint;
        var query = new Dictionary<string, string>(call.Query, StringComparer.Ordinal);
        string nonce = Guid.NewGuid().ToString("N");
        string timestamp = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(call.Method, endpoint);
        if (options.Signature == "RPC" && call.IsRpc)
        {
            query["Action"] = call.Action;
            query["Version"] = call.Version;
            query["Format"] = "JSON";
            query["AccessKeyId"] = options.AccessKeyId;
            query["SignatureMethod"] = RpcSignatureV2.Method;
            query["SignatureVersion"] = RpcSignatureV2.Version;
            query["SignatureNonce"] = nonce;
            query["Timestamp"] = timestamp;
            if (options.SecurityToken is { } token)
            {
                query["SecurityToken"] = token;
            }

            string signature = RpcSignatureV2.Sign(RpcSignatureV2.StringToSign("POST", query!), options.AccessKeySecret);
            request.RequestUri = new Uri(endpoint, "/?" + Encode(query) + "&Signature=" + AcsEncoding.Percent(signature));
        }
        else
        {
            var headers = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["host"] = endpoint.Authority,
                ["x-acs-action"] = call.Action,
                ["x-acs-version"] = call.Version,
                ["x-acs-date"] = timestamp,
                ["x-acs-signature-nonce"] = nonce,
                ["x-acs-content-sha256"] = AcsSignatureV3.EmptyPayloadSha256,
            };
            if (options.SecurityToken is { } token)
            {
                headers["x-acs-security-token"] = token;
                headers["x-acs-accesskey-id"] = options.AccessKeyId;
            }

            (string canonical, string signedHeaders) = AcsSignatureV3.Canonicalize(call.Method.Method, call.Path, query, headers, AcsSignatureV3.EmptyPayloadSha256);
            string authorization = AcsSignatureV3.Authorization(options.AccessKeyId, signedHeaders, AcsSignatureV3.Signature(canonical, options.AccessKeySecret));
            request.RequestUri = new Uri(endpoint, call.Path + (query.Count == 0 ? "" : "?" + Encode(query)));
            request.Headers.Host = endpoint.Authority;
            foreach ((string name, string value) in headers.Where(h => h.Key != "host"))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Content = call.Method == HttpMethod.Get ? null : new ByteArrayContent([]);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new AlibabaException(0, "NetworkError", $"{endpoint.Host} could not be reached ({e.Message}).", null, null, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AlibabaException(0, "NetworkError", $"{endpoint.Host} did not answer in {http.Timeout.TotalSeconds:0} s.", null, null, e);
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                using JsonDocument ok = JsonDocument.Parse(body);
                return ok.RootElement.Clone();
            }

            throw ErrorOf((int)response.StatusCode, body, response.Headers.TryGetValues("x-acs-retry-after", out var after) ? after.FirstOrDefault() : null);
        }
    }

    /// <summary>An error answer: <c>Code</c>, <c>Message</c>, <c>RequestId</c> read case-insensitively; <c>x-acs-retry-after</c> in milliseconds.</summary>
    internal static AlibabaException ErrorOf(int status, string body, string? retryAfterMs)
    {
        string code = $"Http{status}", message = body.Length > 200 ? body[..200] : body;
        string? requestId = null;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(body);
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                switch (p.Name.ToLowerInvariant())
                {
                    case "code":
                        code = p.Value.ToString();
                        break;
                    case "message":
                        message = p.Value.ToString();
                        break;
                    case "requestid":
                        requestId = p.Value.ToString();
                        break;
                }
            }
        }
        catch (JsonException)
        {
        }

        TimeSpan? retryAfter = long.TryParse(retryAfterMs, NumberStyles.None, CultureInfo.InvariantCulture, out long ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms) : null;
        return new AlibabaException(status, code, message, requestId, retryAfter);
    }

    private static string Encode(IEnumerable<KeyValuePair<string, string>> query) =>
        string.Join('&', query.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => AcsEncoding.Percent(p.Key) + "=" + AcsEncoding.Percent(p.Value)));
}
