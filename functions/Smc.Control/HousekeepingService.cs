using Microsoft.Extensions.Options;
using Smc.Core.Options;
using Smc.Core.Services;

namespace Smc.Control;

/// <summary>The standalone host's twin of the Functions timer trigger: runs housekeeping every half heartbeat.</summary>
internal sealed class HousekeepingService(Housekeeping housekeeping, IOptions<ControlPlaneOptions> options, ILogger<HousekeepingService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HousekeepingPeriod);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await housekeeping.RunAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.HousekeepingFailed(e.Message);
            }
        }
    }
}
