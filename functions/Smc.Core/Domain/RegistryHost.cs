using System.Globalization;

namespace Smc.Core.Domain;

/// <summary>
/// A container registry as jobs name it: <c>host[:port]</c> and nothing else — no scheme, user info, path, query or
/// fragment — so the host a push reaches is the host that was checked. (<c>registry.cn-hangzhou.aliyuncs.com:443@evil.example</c>
/// is a URL whose host is evil.example; it is refused here.) Host names are DNS labels; IPv6 literals are bracketed.
/// </summary>
public static class RegistryHost
{
    /// <summary>The lower-case <c>host[:port]</c>, or null with why in <paramref name="error"/>.</summary>
    public static string? Normalize(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 260)
        {
            error = "a registry is host[:port] of at most 260 characters";
            return null;
        }

        string s = text.Trim().ToLowerInvariant();
        string host, port = "";
        if (s.StartsWith('['))
        {
            int close = s.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || !System.Net.IPAddress.TryParse(s[1..close], out System.Net.IPAddress? v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                error = "a bracketed registry host must be an IPv6 address";
                return null;
            }

            host = s[..(close + 1)];
            string rest = s[(close + 1)..];
            if (rest.Length > 0 && rest[0] != ':')
            {
                error = "only :port may follow the host";
                return null;
            }

            port = rest.Length > 0 ? rest[1..] : "";
            if (rest.Length > 0 && port.Length == 0)
            {
                error = "the port is empty";
                return null;
            }
        }
        else
        {
            int colon = s.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? s : s[..colon];
            port = colon < 0 ? "" : s[(colon + 1)..];
            if (colon >= 0 && port.Length == 0)
            {
                error = "the port is empty";
                return null;
            }

            string[] labels = host.Split('.');
            if (host.Length is 0 or > 253 || labels.Any(l => l.Length is 0 or > 63 || l[0] == '-' || l[^1] == '-' || !l.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
            {
                error = "the registry must be host[:port] (DNS name or IP address; no scheme, user, path or query)";
                return null;
            }
        }

        if (port.Length > 0 && (port.Length > 5 || !port.All(char.IsAsciiDigit) || int.Parse(port, CultureInfo.InvariantCulture) is < 1 or > 65535))
        {
            error = "the port must be a number from 1 to 65535";
            return null;
        }

        return port.Length > 0 ? $"{host}:{port}" : host;
    }

    /// <summary>The host part (no port) of a normalized <c>host[:port]</c>.</summary>
    public static string HostName(string normalized) =>
        normalized.StartsWith('[') ? normalized[..(normalized.IndexOf(']', StringComparison.Ordinal) + 1)] : normalized.Split(':')[0];
}
