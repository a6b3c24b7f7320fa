using Microsoft.Extensions.Logging;

namespace Smc.Core.Services;

/// <summary>Periodic upkeep, run by the Functions timer trigger and by the standalone host's timer.</summary>
public sealed class Housekeeping(SourceServerService sources, AccessTokenService tokens, JobExpiry expiry, ILogger<Housekeeping> logger)
{
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        int silent = await sources.MarkSilentSourcesAsync(cancellationToken);
        int tokensChanged = await tokens.RefreshStatusesAsync(cancellationToken);
        int expired = await expiry.ExpireOverdueAsync(cancellationToken);
        if (silent + tokensChanged + expired > 0)
        {
            logger.HousekeepingDone(silent, tokensChanged, expired);
        }
    }
}
