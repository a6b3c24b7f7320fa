using Microsoft.AspNetCore.Http;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Api;

/// <summary>
/// The standalone host's operator key: checked against the SHA-256 kept in storage. On first start, when
/// <c>SMC_ADMIN_KEY</c> is unset, a key is made, printed once, and only its hash is kept. A configured key must carry at
/// least 128 bits of secret. Each host re-reads the hash after a short time, so a key rotated on one host (started with
/// a new SMC_ADMIN_KEY) is the only one every host takes soon after.
/// </summary>
public sealed class OperatorKeyAuth(IKeyIndex keys, TimeProvider clock, TimeSpan? cacheFor = null) : IOperatorAuth
{
    public const string Header = "x-functions-key";

    /// <summary>Least length of a configured key's secret: 22 characters, 128 bits when they are random base64url.</summary>
    public const int MinSecretLength = 22;

    /// <summary>Least number of distinct characters in it: a secret like <c>aaaa…</c> or <c>passwordpassword…</c> is refused.</summary>
    public const int MinDistinctCharacters = 10;

    private const string Scope = "settings";
    private const string KeyName = "operator-key-sha256";

    /// <summary>How long a host trusts the hash it read: a key rotated on another host (SMC_ADMIN_KEY) takes effect here within this.</summary>
    private readonly TimeSpan _cacheFor = cacheFor ?? TimeSpan.FromSeconds(30);

    private volatile CachedHash? _cached;

    public async Task<bool> IsOperatorAsync(HttpRequest request, CancellationToken cancellationToken = default)
    {
        Secret? presented = Secret.Parse(request.Headers[Header].ToString());
        if (presented is null)
        {
            return false;
        }

        CachedHash? cached = _cached;
        if (cached is null || clock.GetUtcNow() - cached.ReadAt >= _cacheFor)
        {
            cached = new CachedHash(await keys.GetAsync(Scope, KeyName, cancellationToken), clock.GetUtcNow());
            _cached = cached;
        }

        return presented.Matches(cached.Hash);
    }

    /// <summary>
    /// The configured operator key, checked (form and strength) — null when none is configured. A host calls it before
    /// it starts anything, so a bad key stops it at once, before storage is touched.
    /// </summary>
    public static Secret? ParseConfigured(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return null;
        }

        Secret key = Secret.Parse(configured)
            ?? throw new InvalidOperationException("SMC_ADMIN_KEY must look like 'name.secret' (at least one character each side of a dot), e.g. as printed by a first start.");
        string secret = key.Reveal()[(key.Reveal().IndexOf('.', StringComparison.Ordinal) + 1)..];
        if (secret.Length < MinSecretLength || secret.Distinct().Count() < MinDistinctCharacters)
        {
            throw new InvalidOperationException(
                $"SMC_ADMIN_KEY's secret (after the dot) is too weak: it must carry at least 128 bits — {MinSecretLength} or more random characters, {MinDistinctCharacters} or more of them different — e.g. op.$(head -c 24 /dev/urandom | base64 | tr -d '/+='). Or leave it unset: a first start makes one and prints it once.");
        }

        return key;
    }

    /// <summary>Makes sure an operator key exists; returns a new key to print once, or null when none was made.</summary>
    public async Task<string?> EnsureKeyAsync(string? configured, CancellationToken cancellationToken = default)
    {
        if (ParseConfigured(configured) is { } key)
        {
            await keys.SetAsync(Scope, KeyName, key.Hash(), cancellationToken);
            _cached = new CachedHash(key.Hash(), clock.GetUtcNow());
            return null;
        }

        Secret fresh = Secret.New("op");
        string held = await keys.ClaimAsync(Scope, KeyName, fresh.Hash(), cancellationToken);
        _cached = new CachedHash(held, clock.GetUtcNow());
        return held == fresh.Hash() ? fresh.Reveal() : null;
    }

    private sealed record CachedHash(string? Hash, DateTimeOffset ReadAt);
}
