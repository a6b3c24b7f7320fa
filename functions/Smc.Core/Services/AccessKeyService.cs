using System.Security.Cryptography;
using System.Text;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>
/// Access key pairs for the SMC-compatible API: made by the operator (the secret shown once), sealed with the master
/// key, opened only to check a request's signature; and the nonces of signed requests, each accepted once.
/// </summary>
public sealed class AccessKeyService(IRecordStore<AccessKey> keys, IKeyIndex index, MasterKey master, TimeProvider clock)
{
    /// <summary>Key ids look like Alibaba's (24 characters): <c>SMCK</c> and 20 of A–Z, 2–7.</summary>
    public const string IdPrefix = "SMCK";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string NonceScope = "smc-signature-nonce";
    private static readonly System.Buffers.SearchValues<char> AlphabetValues = System.Buffers.SearchValues.Create(Alphabet);

    public async Task<CreatedAccessKey> CreateAsync(string? name, CancellationToken cancellationToken = default)
    {
        string id = IdPrefix + RandomNumberGenerator.GetString(Alphabet, 20);
        string secret = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 30);
        var key = new AccessKey
        {
            AccessKeyId = id,
            Name = Validate.Name(name),
            SealedSecret = Convert.ToBase64String(master.Seal(Encoding.UTF8.GetBytes(secret), Context(id))),
            CreatedAt = clock.GetUtcNow(),
        };
        await keys.InsertAsync(id, key, cancellationToken);
        return new CreatedAccessKey(id, secret, key.Name, key.CreatedAt);
    }

    public async Task<Page<AccessKeyView>> ListAsync(PageRequest page, CancellationToken cancellationToken = default)
    {
        var all = new List<AccessKeyView>();
        await foreach (Stored<AccessKey> k in keys.ListAsync(cancellationToken))
        {
            all.Add(AccessKeyView.Of(k.Value));
        }

        return page.Apply([.. all.OrderByDescending(k => k.CreatedAt).ThenBy(k => k.AccessKeyId, StringComparer.Ordinal)]);
    }

    public async Task DeleteAsync(string accessKeyId, CancellationToken cancellationToken = default)
    {
        if (!IsWellFormed(accessKeyId) || !await keys.DeleteAsync(accessKeyId, cancellationToken: cancellationToken))
        {
            throw SmcException.NotFound(ErrorCodes.AccessKeyNotFound, $"No access key '{accessKeyId}'. List them with GET /api/v1/access-keys.");
        }
    }

    /// <summary>The secret of a key, to check a signature with; null when there is no such key.</summary>
    public async Task<string?> SecretAsync(string accessKeyId, CancellationToken cancellationToken = default)
    {
        if (!IsWellFormed(accessKeyId) || (await keys.GetAsync(accessKeyId, cancellationToken))?.Value is not { } key)
        {
            return null;
        }

        return Encoding.UTF8.GetString(master.Open(Convert.FromBase64String(key.SealedSecret), Context(accessKeyId)));
    }

    /// <summary>Records a signed request's nonce; false when it was seen before (a replay).</summary>
    public async Task<bool> ClaimNonceAsync(string accessKeyId, string nonce, CancellationToken cancellationToken = default)
    {
        // Hashed: a nonce is the caller's text, a table key may not hold every character.
        string key = $"{accessKeyId}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(nonce)))}";
        string claim = $"{clock.GetUtcNow():O} {Guid.NewGuid():N}";
        return await index.ClaimAsync(NonceScope, key, claim, cancellationToken) == claim;
    }

    private static bool IsWellFormed(string id) =>
        id.Length == IdPrefix.Length + 20 && id.StartsWith(IdPrefix, StringComparison.Ordinal) && id.AsSpan(IdPrefix.Length).IndexOfAnyExcept(AlphabetValues) < 0;

    private static byte[] Context(string accessKeyId) => Encoding.UTF8.GetBytes("smc-access-key:" + accessKeyId);
}
