using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Smc.Alibaba.Signing;

namespace Smc.Alibaba;

/// <summary>
/// The ECS OpenAPI (RPC style, version <c>2014-05-26</c>) over HTTP: every call a signed <c>POST /?{params}</c>
/// (ACS3-HMAC-SHA256 by default, or the RPC HMAC-SHA1 scheme), JSON answers, errors classified by
/// <see cref="AlibabaException"/>, throttling retried after the delay the service names, server errors retried only
/// for idempotent calls and calls that carry a <c>ClientToken</c>. Spec: shared/docs/alibaba-api.md §0–§3.
/// </summary>
internal sealed class EcsClient(HttpClient http, AlibabaOptions options, TimeProvider clock)
{
    public const string ApiVersion = "2014-05-26";

    /// <summary>The endpoint for a region: the override, else the VPC or public regional one.</summary>
    public Uri EndpointFor(string regionId) =>
        options.EcsEndpoint
        ?? new Uri(options.UseVpcEndpoint ? $"https://ecs-vpc.{regionId}.aliyuncs.com"
            : regionId == "cn-hangzhou" ? "https://ecs-cn-hangzhou.aliyuncs.com" // the SDK's EndpointMap entry
            : $"https://ecs.{regionId}.aliyuncs.com");

    /// <param name="idempotent">Safe to repeat after a server error (Describe*), or made so with a ClientToken in <paramref name="parameters"/>.</param>
    public async Task<JsonElement> CallAsync(string action, string regionId, IReadOnlyDictionary<string, string> parameters, bool idempotent, CancellationToken cancellationToken = default)
    {
        bool repeatable = idempotent || parameters.ContainsKey("ClientToken");
        if (options.MaxAttempts <= 1)
        {
            return await SendAsync(action, regionId, parameters, cancellationToken);
        }

        ResiliencePipeline pipeline = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = options.MaxAttempts - 1,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryDelay,
            ShouldHandle = new PredicateBuilder().Handle<AlibabaException>(e =>
                e.Kind == AlibabaErrorKind.Throttled || (e.Kind == AlibabaErrorKind.Transient && repeatable)),
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is AlibabaException { RetryAfter: { } after } ? after : (TimeSpan?)null),
        }).Build();
        return await pipeline.ExecuteAsync(async token => await SendAsync(action, regionId, parameters, token), cancellationToken);
    }

    private async Task<JsonElement> SendAsync(string action, string regionId, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        Uri endpoint = EndpointFor(regionId);
        var query = new Dictionary<string, string>(parameters, StringComparer.Ordinal);
        query.TryAdd("RegionId", regionId);
        string nonce = Guid.NewGuid().ToString("N");
        string timestamp = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        if (options.Signature == "RPC")
        {
            query["Action"] = action;
            query["Version"] = ApiVersion;
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
                ["x-acs-action"] = action,
                ["x-acs-version"] = ApiVersion,
                ["x-acs-date"] = timestamp,
                ["x-acs-signature-nonce"] = nonce,
                ["x-acs-content-sha256"] = AcsSignatureV3.EmptyPayloadSha256,
            };
            if (options.SecurityToken is { } token)
            {
                headers["x-acs-security-token"] = token;
                headers["x-acs-accesskey-id"] = options.AccessKeyId;
            }

            (string canonical, string signedHeaders) = AcsSignatureV3.Canonicalize("POST", "/", query, headers, AcsSignatureV3.EmptyPayloadSha256);
            string authorization = AcsSignatureV3.Authorization(options.AccessKeyId, signedHeaders, AcsSignatureV3.Signature(canonical, options.AccessKeySecret));
            request.RequestUri = new Uri(endpoint, "/?" + Encode(query));
            request.Headers.Host = endpoint.Authority;
            foreach ((string name, string value) in headers.Where(h => h.Key != "host"))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Content = new ByteArrayContent([]);
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
