using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Writes the destination partition tables and records the image and the run (idempotent).</summary>
public sealed class FinalizeImageActivity(ImageFinalizer steps, IHostApplicationLifetime host) : TaskActivity<FinalizeImageInput, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, FinalizeImageInput input) =>
        steps.FinalizeImageAsync(input, host.ApplicationStopping);
}
