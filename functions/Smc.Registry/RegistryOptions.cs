namespace Smc.Registry;

/// <summary>Registry access (configuration section <c>SMC_REGISTRY__*</c>).</summary>
public sealed class RegistryOptions
{
    /// <summary>Login for every registry this control plane pushes to (Basic, or what a Bearer token endpoint takes); none = anonymous.</summary>
    public string? Username { get; set; }

    /// <summary>Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Registries (host[:port], comma-separated) jobs may push to, and token servers (a Bearer challenge's realm host) the
    /// login may be sent to over https. The insecure ones below are allowed too, and with an Alibaba access key the Alibaba
    /// Container Registry hosts. Nothing else gets a push or a credential.
    /// </summary>
    public string Allowed { get; set; } = "";

    /// <summary>Registries (host[:port], comma-separated) reached over plain HTTP, e.g. a test registry on loopback (allowed by naming them here).</summary>
    public string Insecure { get; set; } = "";

    /// <summary>Chunk size of layer uploads, in MiB.</summary>
    public int ChunkMiB { get; set; } = 8;

    public bool IsInsecure(string registry) => Hosts(Insecure).Contains(registry.ToLowerInvariant());

    /// <summary>A comma-separated list as normalized host[:port] entries (malformed ones dropped: they can match nothing).</summary>
    internal static HashSet<string> Hosts(string list) =>
        [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(h => Smc.Core.Domain.RegistryHost.Normalize(h, out _)).OfType<string>()];
}

/// <summary>
/// The operator's registries: <see cref="RegistryOptions.Allowed"/> and <see cref="RegistryOptions.Insecure"/>, plus those
/// <paramref name="derived"/> accepts (Alibaba Container Registry hosts when an Alibaba key is configured).
/// </summary>
public sealed class RegistryAllowList(RegistryOptions options, Func<string, bool>? derived = null) : Smc.Core.Ports.IRegistryAllowList
{
    private readonly HashSet<string> _hosts = [.. RegistryOptions.Hosts(options.Allowed), .. RegistryOptions.Hosts(options.Insecure)];

    public string HowToAllow => "add it to SMC_REGISTRY__ALLOWED (host[:port], comma-separated)";

    public bool Allows(string registry) =>
        Smc.Core.Domain.RegistryHost.Normalize(registry, out _) is { } host && (_hosts.Contains(host) || derived?.Invoke(host) == true);

    /// <summary>
    /// Whether a Bearer challenge's token endpoint may be sent the login of <paramref name="registry"/>: https (http only
    /// when the registry itself is plain HTTP and the realm is on the same host) on the registry's host, an allowed host,
    /// or one <paramref name="derivedRealm"/> accepts.
    /// </summary>
    public bool AllowsRealm(Uri registry, Uri realm, Func<string, bool>? derivedRealm = null)
    {
        if (!realm.IsAbsoluteUri || realm.UserInfo.Length > 0 || (realm.Scheme != Uri.UriSchemeHttps && realm.Scheme != Uri.UriSchemeHttp))
        {
            return false;
        }

        bool sameHost = string.Equals(realm.Host, registry.Host, StringComparison.OrdinalIgnoreCase);
        if (realm.Scheme == Uri.UriSchemeHttp)
        {
            return sameHost && registry.Scheme == Uri.UriSchemeHttp;
        }

        string authority = realm.IsDefaultPort ? realm.Host.ToLowerInvariant() : $"{realm.Host.ToLowerInvariant()}:{realm.Port}";
        return sameHost || _hosts.Contains(authority) || _hosts.Contains(realm.Host.ToLowerInvariant()) || derivedRealm?.Invoke(realm.Host.ToLowerInvariant()) == true;
    }
}
