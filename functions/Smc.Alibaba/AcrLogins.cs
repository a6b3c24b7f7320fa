using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Smc.Core.Ports;

namespace Smc.Alibaba;

/// <summary>An Alibaba Container Registry instance a registry host belongs to: its edition, region and (Enterprise) instance id.</summary>
public sealed record AcrRegistry(bool Enterprise, string RegionId, string? InstanceId)
{
    private static readonly Regex EnterpriseHost = new(@"^[a-z0-9][a-z0-9-]*-registry(-vpc)?\.(?<region>[a-z0-9-]+)\.cr\.aliyuncs\.com$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));

    private static readonly Regex PersonalHost = new(@"^(registry(-vpc|-internal|-intl|-intl-vpc)?\.(?<region>[a-z0-9-]+)\.aliyuncs\.com|crpi-[a-z0-9]+\.(?<region>[a-z0-9-]+)\.personal\.cr\.aliyuncs\.com)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));

    private static readonly Regex TokenHost = new(@"^dockerauth(-vpc|-intl)?\.[a-z0-9-]+\.aliyuncs\.com$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));

    /// <summary>Whether <paramref name="host"/> is a Personal Edition token server (<c>dockerauth.{region}.aliyuncs.com</c>), a realm ACR's challenges name.</summary>
    public static bool IsTokenHost(string host) => TokenHost.IsMatch(host);

    /// <summary>
    /// The instance behind <paramref name="host"/> (host[:port]): from <see cref="AlibabaOptions.AcrRegistries"/>, else
    /// from ACR's public host names (personal: registry[-vpc|-internal|-intl].{region}.aliyuncs.com or crpi-*.{region}.personal.cr.aliyuncs.com; enterprise: {name}-registry[-vpc].{region}.cr.aliyuncs.com); null for any other registry.
    /// </summary>
    public static AcrRegistry? Of(string host, AlibabaOptions options)
    {
        foreach (string entry in options.AcrRegistries.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] pair = entry.Split('=', 2, StringSplitOptions.TrimEntries);
            string[] spec = pair.Length == 2 ? pair[1].Split(':', StringSplitOptions.TrimEntries) : [];
            if (spec.Length < 2 || spec[0] is not ("personal" or "enterprise") || (spec[0] == "enterprise" && spec.Length < 3))
            {
                throw new InvalidOperationException($"SMC_ALIBABA__ACRREGISTRIES entry '{entry}' must be host=personal:REGION or host=enterprise:REGION:INSTANCEID.");
            }

            if (string.Equals(pair[0], host, StringComparison.OrdinalIgnoreCase))
            {
                return new AcrRegistry(spec[0] == "enterprise", spec[1], spec.Length > 2 ? spec[2] : null);
            }
        }

        if (Smc.Core.Domain.RegistryHost.Normalize(host, out _) is not { } normalized)
        {
            return null; // not host[:port]: user info, a path… name no ACR instance
        }

        string name = Smc.Core.Domain.RegistryHost.HostName(normalized);
        if (EnterpriseHost.Match(name) is { Success: true } ee)
        {
            return new AcrRegistry(true, ee.Groups["region"].Value.ToLowerInvariant(), options.AcrInstanceId);
        }

        return PersonalHost.Match(name) is { Success: true } pe ? new AcrRegistry(false, pe.Groups["region"].Value.ToLowerInvariant(), null) : null;
    }
}

/// <summary>
/// Temporary logins for Alibaba Container Registry with the control plane's access key, as <c>aliyun/acr-login</c> does:
/// Enterprise Edition through the RPC action <c>GetAuthorizationToken</c> (<c>2018-12-01</c>, <c>InstanceId</c>), Personal
/// Edition through the ROA route <c>GET /tokens</c> (<c>2016-06-07</c>), both on <c>cr.{region}.aliyuncs.com</c>. A login
/// is kept until 10 minutes before it expires (tokens live an hour). Other registries get <paramref name="fallback"/>'s.
/// </summary>
public sealed class AcrLogins(HttpClient http, AlibabaOptions options, TimeProvider clock, IRegistryLogins fallback) : IRegistryLogins
{
    public const string EnterpriseVersion = "2018-12-01", PersonalVersion = "2016-06-07";

    private readonly AcsClient _acs = new(http, options, clock);
    private readonly ConcurrentDictionary<string, RegistryLogin> _logins = new(StringComparer.OrdinalIgnoreCase);

    public async Task<RegistryLogin?> LoginAsync(string registry, CancellationToken cancellationToken = default)
    {
        if (!options.HasKeys || AcrRegistry.Of(registry, options) is not { } acr)
        {
            return await fallback.LoginAsync(registry, cancellationToken);
        }

        if (_logins.TryGetValue(registry, out RegistryLogin? kept) && kept.ExpiresAt > clock.GetUtcNow().AddMinutes(10))
        {
            return kept;
        }

        if (acr.Enterprise && string.IsNullOrEmpty(acr.InstanceId))
        {
            throw new CloudRequestException("ACR.InstanceIdMissing",
                $"{registry} is an Alibaba Container Registry Enterprise Edition registry: set SMC_ALIBABA__ACRINSTANCEID to its instance id (cri-…) so the control plane can get a temporary login.", true, null);
        }

        Uri endpoint = options.CrEndpoint ?? new Uri($"https://cr.{acr.RegionId}.aliyuncs.com");
        RegistryLogin login;
        try
        {
            if (acr.Enterprise)
            {
                JsonElement answer = await _acs.CallAsync(new AcsRequest(endpoint, HttpMethod.Post, "/", "GetAuthorizationToken", EnterpriseVersion,
                    new Dictionary<string, string> { ["InstanceId"] = acr.InstanceId! }), repeatable: true, cancellationToken);
                if (answer.TryGetProperty("IsSuccess", out JsonElement ok) && ok.ValueKind == JsonValueKind.False)
                {
                    string code = answer.TryGetProperty("Code", out JsonElement c) ? c.ToString() : "Unknown";
                    throw new AlibabaException(400, code, $"GetAuthorizationToken answered IsSuccess false ({code}).", answer.TryGetProperty("RequestId", out JsonElement r) ? r.ToString() : null, null);
                }

                login = new RegistryLogin(Text(answer, "TempUsername"), Text(answer, "AuthorizationToken"), Expiry(answer, "ExpireTime"));
            }
            else
            {
                JsonElement answer = await _acs.CallAsync(new AcsRequest(endpoint, HttpMethod.Get, "/tokens", "GetAuthorizationToken", PersonalVersion, new Dictionary<string, string>()), repeatable: true, cancellationToken);
                JsonElement data = answer.TryGetProperty("data", out JsonElement d) ? d : throw new AlibabaException(500, "MalformedResponse", "GET /tokens answered without data.", null, null);
                login = new RegistryLogin(Text(data, "tempUserName"), Text(data, "authorizationToken"), Expiry(data, "expireDate"));
            }
        }
        catch (AlibabaException e)
        {
            throw new CloudRequestException("ACR." + e.Code,
                $"Alibaba Container Registry gave no temporary login for {registry} ({e.Message}{(e.RequestId is null ? "" : $", RequestId {e.RequestId}")}). Check SMC_ALIBABA__ACCESSKEYID/ACCESSKEYSECRET (the RAM user needs cr:GetAuthorizationToken){(acr.Enterprise ? " and SMC_ALIBABA__ACRINSTANCEID" : "")}.",
                e.Kind == AlibabaErrorKind.UserError, e.RequestId, e);
        }

        _logins[registry] = login;
        return login;
    }

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw new AlibabaException(500, "MalformedResponse", $"The token answer has no {name}.", null, null);

    /// <summary>Milliseconds since the epoch (a number or a numeric string); an hour from now when absent.</summary>
    private DateTimeOffset Expiry(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && (v.ValueKind == JsonValueKind.Number ? v.TryGetInt64(out long ms) : long.TryParse(v.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out ms))
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : clock.GetUtcNow().AddHours(1);
}
