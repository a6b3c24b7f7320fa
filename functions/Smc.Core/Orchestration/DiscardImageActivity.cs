using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Deletes a partly assembled image, so a failed round leaves no image.</summary>
public sealed class DiscardImageActivity(ImageFinalizer steps, IHostApplicationLifetime host) : TaskActivity<DiscardImageInput, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, DiscardImageInput input) =>
        steps.DiscardImageAsync(input, host.ApplicationStopping);
}
