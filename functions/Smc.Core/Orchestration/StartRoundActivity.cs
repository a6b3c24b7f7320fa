using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Api;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>
/// How far <see cref="RoundStartSteps.StartAsync"/> went: <see cref="Prepared"/> is set when the round was issued; else
/// the step that stopped it is the last one set (a pending export, a source not taken, a wave slot not granted).
/// </summary>
public sealed record StartRoundResult(ExportPlan Pending, AcquireSourceResult? Acquired, WaveSlotResult? Slot, PrepareRoundResult? Prepared);

/// <summary>Pending export, source, wave slot and the round's command in one activity (orchestration version 6).</summary>
public sealed class StartRoundActivity(RoundStartSteps steps, IHostApplicationLifetime host) : TaskActivity<PrepareRoundInput, StartRoundResult>
{
    public override Task<StartRoundResult> RunAsync(TaskActivityContext context, PrepareRoundInput input) =>
        steps.StartAsync(input, host.ApplicationStopping);
}
