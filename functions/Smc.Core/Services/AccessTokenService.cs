using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>Activation codes (SMC access tokens): create, list, disable, delete, and redeem at registration.</summary>
public sealed class AccessTokenService(IRecordStore<AccessToken> tokens, IKeyIndex keys, TimeProvider clock)
{
    internal const string CodeScope = "activation-code";

    public async Task<CreatedAccessToken> CreateAsync(CreateAccessTokenRequest request, CancellationToken cancellationToken = default)
    {
        string name = Validate.Name(request.Name);
        int count = Validate.Range(request.Count, 1, 1000, 100, ErrorCodes.InvalidCount, "count");
        int ttl = Validate.Range(request.TimeToLiveInDays, 1, 90, 30, ErrorCodes.InvalidTimeToLive, "timeToLiveInDays");

        DateTimeOffset now = clock.GetUtcNow();
        string id = Ids.New(Ids.AccessTokenPrefix);
        Secret code = Secret.New(id);
        var token = new AccessToken
        {
            AccessTokenId = id,
            Name = name,
            Count = count,
            TimeToLiveInDays = ttl,
            CreatedAt = now,
            ExpiresAt = now.AddDays(ttl),
        };

        // The hash first: a token record never exists without the means to check its code.
        await keys.SetAsync(CodeScope, id, code.Hash(), cancellationToken);
        await tokens.InsertAsync(id, token, cancellationToken);
        return new CreatedAccessToken(id, code.Reveal());
    }

    public async Task<Page<AccessToken>> ListAsync(PageRequest page, CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = clock.GetUtcNow();
        var all = new List<AccessToken>();
        await foreach (Stored<AccessToken> t in tokens.ListAsync(cancellationToken))
        {
            t.Value.Status = t.Value.StatusAt(now);
            all.Add(t.Value);
        }

        return page.Apply(all.OrderByDescending(t => t.CreatedAt).ThenBy(t => t.AccessTokenId, StringComparer.Ordinal).ToList());
    }

    public async Task<AccessToken> DisableAsync(string id, CancellationToken cancellationToken = default)
    {
        Stored<AccessToken> stored = await tokens.UpdateAsync(Check(id), t =>
        {
            if (t.Disabled)
            {
                return false;
            }

            t.Disabled = true;
            t.Status = AccessTokenStatus.Disabled;
            return true;
        }, cancellationToken) ?? throw NotFound(id);
        stored.Value.Status = stored.Value.StatusAt(clock.GetUtcNow());
        return stored.Value;
    }

    public async Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!await tokens.DeleteAsync(Check(id), cancellationToken: cancellationToken))
        {
            throw NotFound(id);
        }

        await keys.ReleaseAsync(CodeScope, id, cancellationToken: cancellationToken);
    }

    /// <summary>Checks a presented activation code without using it up (install script, agent download).</summary>
    public async Task<AccessToken> CheckAsync(string? presented, CancellationToken cancellationToken = default)
    {
        (Stored<AccessToken> stored, _) = await FindAsync(presented, cancellationToken);
        ThrowIfNotActive(stored.Value);
        return stored.Value;
    }

    /// <summary>Uses one registration of the code; throws a distinct code for unknown, disabled, expired and used-up codes.</summary>
    public async Task<AccessToken> RedeemAsync(string? presented, CancellationToken cancellationToken = default)
    {
        (Stored<AccessToken> stored, _) = await FindAsync(presented, cancellationToken);
        Stored<AccessToken> updated = await tokens.UpdateAsync(stored.Id, t =>
        {
            ThrowIfNotActive(t);
            t.UsedCount++;
            t.Status = t.StatusAt(clock.GetUtcNow());
            return true;
        }, cancellationToken) ?? throw Invalid();
        return updated.Value;
    }

    /// <summary>Gives back a use when the registration it paid for failed.</summary>
    public Task RefundAsync(string id, CancellationToken cancellationToken = default) =>
        tokens.UpdateAsync(id, t =>
        {
            if (t.UsedCount == 0)
            {
                return false;
            }

            t.UsedCount--;
            t.Status = t.StatusAt(clock.GetUtcNow());
            return true;
        }, cancellationToken);

    /// <summary>
    /// Housekeeping: records the status of codes that expired. Reads only codes past their expiry that aren't recorded
    /// as expired or disabled (the store's due query on <see cref="AccessToken.DueAt"/>); every other change of status
    /// (used up, disabled) is written with the change itself.
    /// </summary>
    public async Task<int> RefreshStatusesAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = clock.GetUtcNow();
        int changed = 0;
        await foreach (Stored<AccessToken> t in tokens.ListDueAsync(now, cancellationToken))
        {
            if (t.Value.Status != t.Value.StatusAt(now))
            {
                await tokens.UpdateAsync(t.Id, x =>
                {
                    string s = x.StatusAt(now);
                    if (x.Status == s)
                    {
                        return false;
                    }

                    x.Status = s;
                    return true;
                }, cancellationToken);
                changed++;
            }
        }

        return changed;
    }

    private async Task<(Stored<AccessToken>, Secret)> FindAsync(string? presented, CancellationToken cancellationToken)
    {
        Secret? code = Secret.Parse(presented);
        if (code is null || !Ids.IsWellFormed(code.OwnerId, Ids.AccessTokenPrefix))
        {
            throw Invalid();
        }

        string? hash = await keys.GetAsync(CodeScope, code.OwnerId, cancellationToken);
        if (!code.Matches(hash))
        {
            throw Invalid();
        }

        Stored<AccessToken> stored = await tokens.GetAsync(code.OwnerId, cancellationToken) ?? throw Invalid();
        return (stored, code);
    }

    private void ThrowIfNotActive(AccessToken t)
    {
        switch (t.StatusAt(clock.GetUtcNow()))
        {
            case AccessTokenStatus.Disabled:
                throw SmcException.Forbidden(ErrorCodes.ActivationCodeDisabled, "This activation code was disabled. Create a new one with POST /api/v1/access-tokens.");
            case AccessTokenStatus.Expired:
                throw SmcException.Forbidden(ErrorCodes.ActivationCodeExpired, $"This activation code expired at {t.ExpiresAt:u}. Create a new one with POST /api/v1/access-tokens.");
            case AccessTokenStatus.UsedUp:
                throw SmcException.Forbidden(ErrorCodes.ActivationCodeUsedUp, $"This activation code has registered its {t.Count} source server(s). Create a new one with a larger count.");
        }
    }

    private static SmcException Invalid() =>
        SmcException.Unauthorized(ErrorCodes.ActivationCodeInvalid, "The activation code is not valid. Copy it exactly as POST /api/v1/access-tokens returned it.");

    private static string Check(string id) => Ids.IsWellFormed(id, Ids.AccessTokenPrefix) ? id : throw NotFound(id);

    private static SmcException NotFound(string id) =>
        SmcException.NotFound(ErrorCodes.AccessTokenNotFound, $"No access token '{id}'. List them with GET /api/v1/access-tokens.");
}
