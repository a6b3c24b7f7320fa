namespace Smc.Core.Ports;

/// <summary>
/// Unique keys with an owner value, claimed atomically: "one unfinished job per source", idempotency
/// client tokens, credential hashes, settings. A claim is an insert that fails if the key exists.
/// </summary>
public interface IKeyIndex
{
    /// <summary>Claims <paramref name="key"/> in <paramref name="scope"/> for <paramref name="value"/>; returns the value now held (ours or the earlier claimant's).</summary>
    Task<string> ClaimAsync(string scope, string key, string value, CancellationToken cancellationToken = default);

    Task<string?> GetAsync(string scope, string key, CancellationToken cancellationToken = default);

    /// <summary>Sets the key unconditionally.</summary>
    Task SetAsync(string scope, string key, string value, CancellationToken cancellationToken = default);

    /// <summary>The keys of a scope with their values, in key order (keys as stored: one stored by its hash comes back as that hash).</summary>
    IAsyncEnumerable<KeyValuePair<string, string>> ListAsync(string scope, CancellationToken cancellationToken = default);

    /// <summary>Removes the key if it is held by <paramref name="value"/> (any value when null).</summary>
    Task ReleaseAsync(string scope, string key, string? value = null, CancellationToken cancellationToken = default);
}
