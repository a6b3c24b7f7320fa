using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Options;
using Smc.Core.Ports;
using Smc.Core.Services;
using Smc.Wire.Agent;

namespace Smc.Api.Routes;

/// <summary>Agent-only routes (<c>/api/v1/agent/…</c>) and the agent packages operators upload.</summary>
internal static class AgentRoutes
{
    public static readonly IReadOnlyList<string> Runtimes = ["linux-x64"];

    /// <summary>Largest agent binary accepted (the single-file agent is about 40 MB).</summary>
    private const long MaxPackageBytes = 256L << 20;

    /// <summary>
    /// The address install.sh points agents at: SMC_CONTROL__PUBLICURL, else the request's scheme and host — a trusted
    /// proxy's X-Forwarded-Proto/-Host when the request came through one (SMC_CONTROL__TRUSTEDPROXIES). A plain
    /// <c>http://</c> address for a host other than loopback is refused unless SMC_CONTROL__ALLOWHTTPAGENTS: the
    /// activation code and the agent's credential would cross the network in clear.
    /// </summary>
    internal static string ServerUrl(ApiCall call)
    {
        ControlPlaneOptions options = call.Get<Microsoft.Extensions.Options.IOptions<ControlPlaneOptions>>().Value;
        string scheme = call.Request.Scheme, host = call.Request.Host.Value ?? "";
        if (!string.IsNullOrEmpty(options.PublicUrl))
        {
            var configured = new Uri(options.PublicUrl);
            (scheme, host) = (configured.Scheme, configured.Authority);
        }
        else if (call.Http.Connection.RemoteIpAddress is { } peer && IsTrustedProxy(options, peer))
        {
            if (Forwarded(call, "X-Forwarded-Proto") is ("http" or "https") and var proto)
            {
                scheme = proto;
            }

            if (Forwarded(call, "X-Forwarded-Host") is { } forwardedHost && Uri.CheckHostName(forwardedHost.Split(':')[0]) != UriHostNameType.Unknown
                && Uri.TryCreate($"{scheme}://{forwardedHost}", UriKind.Absolute, out Uri? parsed) && parsed.Authority.Length > 0 && parsed.AbsolutePath == "/")
            {
                host = forwardedHost;
            }
        }

        if (!Uri.TryCreate($"{scheme}://{host}", UriKind.Absolute, out Uri? url))
        {
            throw SmcException.BadRequest(ErrorCodes.InsecureServerUrl, "The request names no usable host: set SMC_CONTROL__PUBLICURL to the address agents reach.");
        }

        if (url.Scheme == Uri.UriSchemeHttp && !url.IsLoopback && !options.AllowHttpAgents)
        {
            throw SmcException.Conflict(ErrorCodes.InsecureServerUrl,
                $"Agents would reach this control plane at {url.GetLeftPart(UriPartial.Authority)}, in plain HTTP: the activation code and the agent's credential would cross the network unencrypted. " +
                "Set SMC_CONTROL__PUBLICURL to its https address (behind a TLS proxy), or name the proxy in SMC_CONTROL__TRUSTEDPROXIES, or allow plain HTTP with SMC_CONTROL__ALLOWHTTPAGENTS=true.");
        }

        return url.GetLeftPart(UriPartial.Authority);
    }

    private static bool IsTrustedProxy(ControlPlaneOptions options, System.Net.IPAddress peer)
    {
        System.Net.IPAddress address = peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer;
        return options.TrustedProxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(p => System.Net.IPAddress.TryParse(p, out System.Net.IPAddress? proxy) && proxy.Equals(address));
    }

    /// <summary>A forwarded header's value as the nearest proxy set it (the last of a comma-separated list), lower-cased for the scheme.</summary>
    private static string? Forwarded(ApiCall call, string header) =>
        call.Request.Headers[header].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() is { Length: > 0 } v
            ? (header == "X-Forwarded-Proto" ? v.ToLowerInvariant() : v)
            : null;

    public static IEnumerable<ApiRoute> All()
    {
        yield return new("AgentRegister", "POST", "v1/agent/register", RouteAuth.ActivationCode, async call =>
        {
            RegisterRequest request = await call.ReadJsonAsync<RegisterRequest>();
            RegisterResponse response = await call.Get<SourceServerService>().RegisterAsync(call.ActivationCode, request, call.CancellationToken);
            return Results.Json(response, ApiJson.Options, statusCode: 201);
        });
        yield return new("AgentHeartbeat", "POST", "v1/agent/heartbeat", RouteAuth.Agent, async call =>
        {
            HeartbeatRequest request = await call.ReadJsonAsync<HeartbeatRequest>();
            return Results.Json(await call.Get<SourceServerService>().HeartbeatAsync(call.SourceId!, request, call.CancellationToken), ApiJson.Options);
        });
        yield return new("AgentPreflight", "POST", "v1/agent/preflight", RouteAuth.Agent, async call =>
        {
            Smc.Wire.Boot.PreflightReport report = await call.ReadJsonAsync<Smc.Wire.Boot.PreflightReport>();
            SourceServer source = await call.Get<SourceServerService>().SavePreflightAsync(call.SourceId!, report, call.CancellationToken);
            return Results.Json(source.Preflight, ApiJson.Options);
        });
        yield return new("AgentStagingProbe", "POST", "v1/agent/staging-probe", RouteAuth.Agent, async call =>
            Results.Json(await call.Get<SourceServerService>().StagingProbeAsync(call.SourceId!, call.CancellationToken), ApiJson.Options));
        yield return new("AgentCommands", "GET", "v1/agent/commands", RouteAuth.Agent, async call =>
            Results.Json(new { commands = (await call.Get<SourceServerService>().GetAsync(call.SourceId!, call.CancellationToken)).PendingCommands }, ApiJson.Options));
        yield return new("AgentInstallScript", "GET", "v1/agent/install.sh", RouteAuth.ActivationCode, async call =>
        {
            AgentPackageInfo package = await call.Get<IAgentPackageStore>().GetInfoAsync("linux-x64", call.CancellationToken) ?? throw NoPackage("linux-x64");
            string server = ServerUrl(call);
            return Results.Text(InstallScript.Render(server, call.ActivationCode!, package), "text/x-shellscript; charset=utf-8");
        });
        yield return new("AgentDownload", "GET", "v1/agent/download/{runtime}", RouteAuth.ActivationCode, async call =>
        {
            string runtime = CheckRuntime(call.Route("runtime"));
            IAgentPackageStore store = call.Get<IAgentPackageStore>();
            AgentPackageInfo info = await store.GetInfoAsync(runtime, call.CancellationToken) ?? throw NoPackage(runtime);
            Stream content = await store.OpenReadAsync(runtime, call.CancellationToken) ?? throw NoPackage(runtime);
            call.Http.Response.Headers["x-smc-sha256"] = info.Sha256;
            return Results.Stream(content, "application/octet-stream", "smc-agent");
        });
        yield return new("UploadAgentPackage", "PUT", "v1/agent-packages/{runtime}", RouteAuth.Operator, async call =>
        {
            string runtime = CheckRuntime(call.Route("runtime"));
            if (call.Request.ContentLength is null or 0)
            {
                throw SmcException.BadRequest(ErrorCodes.PackageInvalid, "Send the agent binary as the body (with Content-Length).");
            }

            if (call.Request.ContentLength > MaxPackageBytes)
            {
                throw new SmcException(413, ErrorCodes.PackageInvalid, $"An agent binary is at most {MaxPackageBytes >> 20} MiB.");
            }

            if (call.Http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = MaxPackageBytes;
            }

            AgentPackageInfo info = await call.Get<IAgentPackageStore>().PutAsync(runtime, call.Request.Body, call.CancellationToken);
            return Results.Json(info, ApiJson.Options, statusCode: 201);
        });
    }

    private static string CheckRuntime(string runtime) =>
        Runtimes.Contains(runtime)
            ? runtime
            : throw SmcException.NotFound(ErrorCodes.PackageNotFound, $"No agent for '{runtime}'. Available: {string.Join(", ", Runtimes)}.");

    private static SmcException NoPackage(string runtime) =>
        SmcException.NotFound(ErrorCodes.PackageNotFound, $"No agent binary for {runtime} has been uploaded. Upload one with PUT /api/v1/agent-packages/{runtime} (the README's main command does it).");
}
