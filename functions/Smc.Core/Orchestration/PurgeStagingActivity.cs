using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Deletes the job's staging container once its round is an image.</summary>
public sealed class PurgeStagingActivity(RoundIssuer steps, IHostApplicationLifetime host) : TaskActivity<string, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, string input) =>
        steps.PurgeStagingAsync(input, host.ApplicationStopping);
}
