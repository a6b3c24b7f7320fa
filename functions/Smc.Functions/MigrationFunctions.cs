using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Smc.Core.Orchestration;
using Smc.Core.Services;

namespace Smc.Functions;

/// <summary>The orchestrator and activity functions: one per registered task, over the shared code.</summary>
public sealed class MigrationFunctions(JobSteps steps)
{
    [Function(TaskNames.MigrateServerOrchestrator)]
    public Task<MigrationResult> MigrateServerOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new MigrateServerOrchestrator().RunAsync(context, context.GetInput<MigrationInput>()!);

    [Function(TaskNames.AcquireSourceActivity)]
    public Task<AcquireSourceResult> AcquireSourceActivity([ActivityTrigger] AcquireSourceInput input) =>
        steps.AcquireSourceAsync(input);

    [Function(TaskNames.FinishRunActivity)]
    public Task<bool> FinishRunActivity([ActivityTrigger] FinishRunInput input) =>
        steps.FinishRunAsync(input);
}
