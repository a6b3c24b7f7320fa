using Microsoft.AspNetCore.Http;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Api;

/// <summary>
/// The standalone host's operator key: checked against the SHA-256 kept in storage. On first start, when
/// <c>SMC_ADMIN_KEY</c> is unset, a key is made, printed once, and only its hash is kept.
/// </summary>
public sealed class OperatorKeyAuth(IKeyIndex keys) : IOperatorAuth
{
    public const string Header = "x-functions-key";
    private const string Scope = "settings";
    private const string KeyName = "operator-key-sha256";

    private string? _cachedHash;

    public async Task<bool> IsOperatorAsync(HttpRequest request, CancellationToken cancellationToken = default)
    {
        Secret? presented = Secret.Parse(request.Headers[Header].ToString());
        if (presented is null)
        {
            return false;
        }

        _cachedHash ??= await keys.GetAsync(Scope, KeyName, cancellationToken);
        return presented.Matches(_cachedHash);
    }

    /// <summary>Makes sure an operator key exists; returns a new key to print once, or null when none was made.</summary>
    public async Task<string?> EnsureKeyAsync(string? configured, CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            Secret key = Secret.Parse(configured)
                ?? throw new InvalidOperationException("SMC_ADMIN_KEY must look like 'name.secret' (at least one character each side of a dot), e.g. as printed by a first start.");
            await keys.SetAsync(Scope, KeyName, key.Hash(), cancellationToken);
            _cachedHash = key.Hash();
            return null;
        }

        Secret fresh = Secret.New("op");
        string held = await keys.ClaimAsync(Scope, KeyName, fresh.Hash(), cancellationToken);
        _cachedHash = held;
        return held == fresh.Hash() ? fresh.Reveal() : null;
    }
}
