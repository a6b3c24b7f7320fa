namespace Smc.Core.Options;

/// <summary>Tunables of the control plane's rules (configuration section <c>SMC_CONTROL__*</c>).</summary>
public sealed class ControlPlaneOptions
{
    /// <summary>Seconds between agent heartbeats, handed to agents at registration and on each heartbeat.</summary>
    public int HeartbeatRateSeconds { get; set; } = 30;

    /// <summary>
    /// A source whose last heartbeat is older than this many heartbeat intervals becomes <c>Unavailable</c>.
    /// With housekeeping every quarter interval, the change lands within 3 × heartbeatRate (product contract).
    /// </summary>
    public double UnavailableAfterHeartbeats { get; set; } = 2.5;

    /// <summary>How often a job waiting for its source re-checks without being signalled.</summary>
    public int SourceRecheckSeconds { get; set; } = 60;

    /// <summary>A syncing job whose agent has been silent this long fails (InError), keeping what was uploaded.</summary>
    public int SyncLostAfterSeconds { get; set; } = 600;

    /// <summary>
    /// The shortest <c>syncInterval</c> accepted, in seconds (<c>SMC_CONTROL__MINSYNCINTERVALSECONDS</c>). The product's
    /// floor is 300 (PT5M); tests and demos lower it to run incremental rounds seconds apart.
    /// </summary>
    public int MinSyncIntervalSeconds { get; set; } = 300;

    /// <summary>
    /// The control plane's address as sources reach it (<c>SMC_CONTROL__PUBLICURL</c>, e.g. <c>https://smc.example.com</c>):
    /// what <c>install.sh</c> points agents at. Needed behind a proxy that terminates TLS, where the request arrives as
    /// plain HTTP. Unset: the request's own scheme and host (or a trusted proxy's forwarded ones).
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// Addresses (comma-separated IPs) of the reverse proxies whose <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c>
    /// are believed (<c>SMC_CONTROL__TRUSTEDPROXIES</c>); from anyone else those headers are ignored.
    /// </summary>
    public string TrustedProxies { get; set; } = "";

    /// <summary>
    /// Hand out a plain <c>http://</c> control-plane address for a host other than loopback (<c>SMC_CONTROL__ALLOWHTTPAGENTS</c>):
    /// the activation code and the agent's credential would then cross the network unencrypted. Off by default.
    /// </summary>
    public bool AllowHttpAgents { get; set; }

    public void Validate()
    {
        if (!string.IsNullOrEmpty(PublicUrl)
            && (!Uri.TryCreate(PublicUrl, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)
                || url.UserInfo.Length > 0 || url.Query.Length > 0 || url.Fragment.Length > 0 || url.AbsolutePath != "/"))
        {
            throw new InvalidOperationException("SMC_CONTROL__PUBLICURL must be an http(s) address with no path, login or query, e.g. https://smc.example.com.");
        }

        if (TrustedProxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(a => !System.Net.IPAddress.TryParse(a, out _)) is { } bad)
        {
            throw new InvalidOperationException($"SMC_CONTROL__TRUSTEDPROXIES holds '{bad}', which is not an IP address (comma-separated IPs).");
        }

        if (HeartbeatRateSeconds is < 1 or > 3600)
        {
            throw new InvalidOperationException("SMC_CONTROL__HEARTBEATRATESECONDS must be 1–3600.");
        }

        if (UnavailableAfterHeartbeats is < 1.5 or > 10)
        {
            throw new InvalidOperationException("SMC_CONTROL__UNAVAILABLEAFTERHEARTBEATS must be 1.5–10.");
        }

        if (SourceRecheckSeconds is < 1 or > 3600)
        {
            throw new InvalidOperationException("SMC_CONTROL__SOURCERECHECKSECONDS must be 1–3600.");
        }
    }

    public TimeSpan UnavailableAfter => TimeSpan.FromSeconds(HeartbeatRateSeconds * UnavailableAfterHeartbeats);

    /// <summary>Housekeeping period: a quarter heartbeat interval (0.5 s – 30 s), so 2.5 + 0.25 intervals stay under 3.</summary>
    public TimeSpan HousekeepingPeriod => TimeSpan.FromSeconds(Math.Clamp(HeartbeatRateSeconds / 4.0, 0.5, 30));
}
