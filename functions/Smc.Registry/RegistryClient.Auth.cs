using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Smc.Registry;

/// <summary>
/// How a request reaches the registry: the login only to the registry's own origin, as its <c>WWW-Authenticate</c>
/// challenge asks (Basic, or a Bearer token per scope from a realm the operator allows), and TLS failures as what to set.
/// </summary>
public sealed partial class RegistryClient
{
    /// <summary>Sends, and on a 401 answers the registry's challenge (Basic, or a Bearer token for the scope) and sends once more.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> make, string scope, CancellationToken ct)
    {
        HttpResponseMessage response = await SendOnceAsync(make, scope, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        AuthenticationHeaderValue? challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        response.Dispose();
        if (challenge?.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) == true)
        {
            if (_credentials is null || _basic)
            {
                throw Unauthorized();
            }

            _basic = true;
        }
        else if (challenge?.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) == true)
        {
            _tokens[scope] = await FetchTokenAsync(challenge.Parameter ?? "", scope, ct);
        }
        else
        {
            throw Unauthorized();
        }

        response = await SendOnceAsync(make, scope, ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw Unauthorized();
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> make, string scope, CancellationToken ct)
    {
        using HttpRequestMessage request = make();
        if (!SameOrigin(request.RequestUri))
        {
            // A Location the registry gave (an upload session on a storage backend): no login goes there.
        }
        else if (_tokens.TryGetValue(scope, out string? token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (_basic && _credentials is not null)
        {
            request.Headers.Authorization = Basic(_credentials);
        }

        return await SendHttpAsync(request, ct);
    }

    /// <summary>
    /// One HTTP exchange. A TLS handshake that fails is not transient — most often a registry that speaks plain HTTP, or
    /// a certificate this host doesn't trust — so it ends at once with <c>TLS_FAILED</c> and what to set, not in retries.
    /// </summary>
    private async Task<HttpResponseMessage> SendHttpAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException)
        {
            string host = request.RequestUri!.IsDefaultPort ? request.RequestUri.Host : $"{request.RequestUri.Host}:{request.RequestUri.Port}";
            throw new RegistryException(0, "TLS_FAILED",
                $"The TLS handshake with {host} failed ({e.InnerException.Message}). If the registry speaks plain HTTP, name it in SMC_REGISTRY__INSECURE; otherwise make its certificate trusted on the control plane's host.",
                userError: true, e);
        }
    }

    /// <summary>The token endpoint of a Bearer challenge (<c>realm</c>, <c>service</c>, <c>scope</c>), with the credentials when there are some.</summary>
    private async Task<string> FetchTokenAsync(string parameters, string scope, CancellationToken ct)
    {
        Dictionary<string, string> p = ParseChallenge(parameters);
        if (!p.TryGetValue("realm", out string? realm))
        {
            throw new RegistryException(401, "UNAUTHORIZED", "The registry's Bearer challenge names no realm (token endpoint).");
        }

        if (!Uri.TryCreate(realm, UriKind.Absolute, out Uri? realmUri) || !_realmAllowed(realmUri))
        {
            throw new RegistryException(401, "REALM_NOT_ALLOWED",
                $"The registry's Bearer challenge sends the login to {(realmUri is null ? "an invalid address" : realmUri.GetLeftPart(UriPartial.Authority))}, which is neither the registry nor an allowed token server over https: nothing was sent. If it is the registry's token server, add its host to SMC_REGISTRY__ALLOWED.");
        }

        var query = new List<string>();
        if (p.TryGetValue("service", out string? service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        query.AddRange((p.GetValueOrDefault("scope") ?? scope).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => "scope=" + Uri.EscapeDataString(s)));
        using var request = new HttpRequestMessage(HttpMethod.Get, realm + (realm.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join('&', query));
        if (_credentials is not null)
        {
            request.Headers.Authorization = Basic(_credentials);
        }

        using HttpResponseMessage response = await SendHttpAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw (int)response.StatusCode is 401 or 403 ? Unauthorized() : await ErrorAsync(response, ct);
        }

        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return (body.RootElement.TryGetProperty("token", out JsonElement t) ? t : body.RootElement.GetProperty("access_token")).GetString()!;
    }

    /// <summary>Whether a request goes to the registry itself (scheme, host and port of the base address): only those carry the login.</summary>
    private bool SameOrigin(Uri? uri) =>
        uri is { IsAbsoluteUri: true } && uri.Scheme == _base.Scheme && string.Equals(uri.Host, _base.Host, StringComparison.OrdinalIgnoreCase) && uri.Port == _base.Port;

    internal static Dictionary<string, string> ParseChallenge(string parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < parameters.Length)
        {
            int eq = parameters.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            string key = parameters[i..eq].Trim().TrimStart(',').Trim();
            string value;
            if (eq + 1 < parameters.Length && parameters[eq + 1] == '"')
            {
                int close = parameters.IndexOf('"', eq + 2);
                close = close < 0 ? parameters.Length : close;
                value = parameters[(eq + 2)..close];
                i = close + 1;
            }
            else
            {
                int comma = parameters.IndexOf(',', eq + 1);
                comma = comma < 0 ? parameters.Length : comma;
                value = parameters[(eq + 1)..comma].Trim();
                i = comma;
            }

            result[key] = value;
            while (i < parameters.Length && parameters[i] is ',' or ' ')
            {
                i++;
            }
        }

        return result;
    }

    private RegistryException Unauthorized() => new(401, "UNAUTHORIZED", _credentials is null
        ? $"The registry {_base.Authority} needs credentials: give the job's registry username and password (or token)."
        : $"The registry {_base.Authority} refused the credentials of user '{_credentials.Username}': check the username and password (or token) and their push permission on the repository.");

    private static AuthenticationHeaderValue Basic(RegistryCredentials c) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.Username}:{c.Password}")));
}
