using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Boots an Image round's image in a virtual machine and records the result on the image and the run (idempotent; never fails the round).</summary>
public sealed class VerifyBootActivity(BootVerifier steps, IHostApplicationLifetime host) : TaskActivity<VerifyBootInput, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, VerifyBootInput input) =>
        steps.VerifyAsync(input.JobId, input.Round, input.ImageId, host.ApplicationStopping);
}
