namespace Smc.Alibaba;

/// <summary>
/// The ECS OpenAPI (RPC style, version <c>2014-05-26</c>): every call a signed <c>POST /?{params}</c> to the region's
/// endpoint (public, VPC, or an override) through <see cref="AcsClient"/>, which signs, classifies errors and retries.
/// </summary>
internal sealed class EcsClient(HttpClient http, AlibabaOptions options, TimeProvider clock)
{
    public const string ApiVersion = "2014-05-26";

    private readonly AcsClient _acs = new(http, options, clock);

    /// <summary>The endpoint for a region: the override, else the VPC or public regional one.</summary>
    public Uri EndpointFor(string regionId) =>
        options.EcsEndpoint
        ?? new Uri(options.UseVpcEndpoint ? $"https://ecs-vpc.{regionId}.aliyuncs.com"
            : regionId == "cn-hangzhou" ? "https://ecs-cn-hangzhou.aliyuncs.com" // the SDK's EndpointMap entry
            : $"https://ecs.{regionId}.aliyuncs.com");

    /// <param name="idempotent">Safe to repeat after a server error (Describe*), or made so with a ClientToken in <paramref name="parameters"/>.</param>
    public Task<System.Text.Json.JsonElement> CallAsync(string action, string regionId, IReadOnlyDictionary<string, string> parameters, bool idempotent, CancellationToken cancellationToken = default)
    {
        var query = new Dictionary<string, string>(parameters, StringComparer.Ordinal);
        query.TryAdd("RegionId", regionId);
        return _acs.CallAsync(new AcsRequest(EndpointFor(regionId), HttpMethod.Post, "/", action, ApiVersion, query), idempotent || parameters.ContainsKey("ClientToken"), cancellationToken);
    }
}
