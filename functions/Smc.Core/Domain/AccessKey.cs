namespace Smc.Core.Domain;

/// <summary>
/// An access key pair for the SMC-compatible API (issue 19): SMC's SDKs and scripts sign each request with the secret
/// (ACS3-HMAC-SHA256 or the RPC HMAC-SHA1), and checking an HMAC needs the secret itself — so it is kept sealed with the
/// master key (AES-256-GCM, bound to the key id), shown once when made, never logged and never in a listing.
/// </summary>
public sealed class AccessKey
{
    public required string AccessKeyId { get; init; }

    public required string Name { get; set; }

    /// <summary>The secret, sealed (base64): the stored record has it, the API never shows it (<see cref="AccessKeyView"/>).</summary>
    public required string SealedSecret { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; set; }
}

/// <summary>A new key pair: the secret is in this answer only.</summary>
public sealed record CreatedAccessKey(string AccessKeyId, string AccessKeySecret, string Name, DateTimeOffset CreatedAt);

/// <summary>A key pair as the API lists it: no secret.</summary>
public sealed record AccessKeyView(string AccessKeyId, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt)
{
    public static AccessKeyView Of(AccessKey k) => new(k.AccessKeyId, k.Name, k.CreatedAt, k.LastUsedAt);
}
