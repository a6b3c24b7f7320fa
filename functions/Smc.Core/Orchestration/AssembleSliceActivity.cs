using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Keeps one slice's packs out of staging and checks every chunk of it (idempotent: keeping again is harmless).</summary>
public sealed class AssembleSliceActivity(SliceAssembly steps, IHostApplicationLifetime host) : TaskActivity<SliceInput, SliceResult>
{
    public override Task<SliceResult> RunAsync(TaskActivityContext context, SliceInput input) =>
        steps.AssembleSliceAsync(input, host.ApplicationStopping);
}
