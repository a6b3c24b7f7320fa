using Microsoft.Extensions.Logging;

namespace Smc.Core.Services;

/// <summary>Periodic upkeep, run by the Functions timer trigger and by the standalone host's timer.</summary>
public sealed class Housekeeping(SourceServerService sources, AccessTokenService tokens, JobExpiry expiry, JobKeys jobKeys,
    Microsoft.Extensions.Options.IOptions<Options.SecurityOptions> security, ILogger<Housekeeping> logger)
{
    /// <summary>Spare job key pairs made in one pass at most (each ~0.8 s of a core), so a pass stays short.</summary>
    public const int SparesPerPass = 4;

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        int silent = await sources.MarkSilentSourcesAsync(cancellationToken);
        int tokensChanged = await tokens.RefreshStatusesAsync(cancellationToken);
        int expired = await expiry.ExpireOverdueAsync(cancellationToken);
        int spares = await jobKeys.FillSparesAsync(security.Value.JobKeySpares, SparesPerPass, cancellationToken);
        if (silent + tokensChanged + expired + spares > 0)
        {
            logger.HousekeepingDone(silent, tokensChanged, expired, spares);
        }
    }
}
