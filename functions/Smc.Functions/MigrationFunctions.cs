using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Smc.Core.Orchestration;
using Smc.Core.Services;

namespace Smc.Functions;

/// <summary>The orchestrator and activity functions: one per registered task, over the shared code.</summary>
public sealed class MigrationFunctions(JobSteps steps, RoundSteps rounds, ExportSteps exports, ContainerSteps containers)
{
    [Function(TaskNames.MigrateServerOrchestrator)]
    public Task<MigrationResult> MigrateServerOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new MigrateServerOrchestrator().RunAsync(context, context.GetInput<MigrationInput>()!);

    [Function(TaskNames.AcquireSourceActivity)]
    public Task<AcquireSourceResult> AcquireSourceActivity([ActivityTrigger] AcquireSourceInput input) =>
        steps.AcquireSourceAsync(input);

    [Function(TaskNames.EnterWaitingActivity)]
    public Task<WaitingResult> EnterWaitingActivity([ActivityTrigger] string jobId) =>
        steps.EnterWaitingAsync(jobId);

    [Function(TaskNames.BeginRoundActivity)]
    public Task<bool> BeginRoundActivity([ActivityTrigger] string jobId) =>
        steps.BeginRoundAsync(jobId);

    [Function(TaskNames.FinishRunActivity)]
    public Task<bool> FinishRunActivity([ActivityTrigger] FinishRunInput input) =>
        steps.FinishRunAsync(input);

    [Function(TaskNames.PrepareRoundActivity)]
    public Task<PrepareRoundResult> PrepareRoundActivity([ActivityTrigger] PrepareRoundInput input) =>
        rounds.PrepareRoundAsync(input);

    [Function(TaskNames.CheckSyncActivity)]
    public Task<CheckSyncResult> CheckSyncActivity([ActivityTrigger] CheckSyncInput input) =>
        rounds.CheckSyncAsync(input);

    [Function(TaskNames.VerifyRoundActivity)]
    public Task<AssemblyPlan> VerifyRoundActivity([ActivityTrigger] VerifyRoundInput input) =>
        rounds.VerifyRoundAsync(input);

    [Function(TaskNames.AssembleSliceActivity)]
    public Task<SliceResult> AssembleSliceActivity([ActivityTrigger] SliceInput input) =>
        rounds.AssembleSliceAsync(input);

    [Function(TaskNames.FinalizeImageActivity)]
    public Task<bool> FinalizeImageActivity([ActivityTrigger] FinalizeImageInput input) =>
        rounds.FinalizeImageAsync(input);

    [Function(TaskNames.DiscardImageActivity)]
    public Task<bool> DiscardImageActivity([ActivityTrigger] DiscardImageInput input) =>
        rounds.DiscardImageAsync(input);

    [Function(TaskNames.PurgeStagingActivity)]
    public Task<bool> PurgeStagingActivity([ActivityTrigger] string input) =>
        rounds.PurgeStagingAsync(input);

    [Function(TaskNames.BeginExportActivity)]
    public Task<ExportPlan> BeginExportActivity([ActivityTrigger] ExportInput input) =>
        exports.BeginAsync(input);

    [Function(TaskNames.UploadPartsActivity)]
    public Task<UploadPartsResult> UploadPartsActivity([ActivityTrigger] UploadPartsInput input) =>
        exports.UploadPartsAsync(input);

    [Function(TaskNames.CompleteUploadActivity)]
    public Task<ExportStepResult> CompleteUploadActivity([ActivityTrigger] ExportDiskInput input) =>
        exports.CompleteUploadAsync(input);

    [Function(TaskNames.StartImportActivity)]
    public Task<ExportStepResult> StartImportActivity([ActivityTrigger] ExportInput input) =>
        exports.StartImportAsync(input);

    [Function(TaskNames.CheckImportActivity)]
    public Task<ImportCheck> CheckImportActivity([ActivityTrigger] ExportInput input) =>
        exports.CheckImportAsync(input);

    [Function(TaskNames.EndExportActivity)]
    public Task<bool> EndExportActivity([ActivityTrigger] EndExportInput input) =>
        exports.EndAsync(input);

    [Function(TaskNames.LaunchInstanceActivity)]
    public Task<ExportStepResult> LaunchInstanceActivity([ActivityTrigger] string jobId) =>
        exports.LaunchAsync(jobId);

    [Function(TaskNames.PushContainerActivity)]
    public Task<ExportStepResult> PushContainerActivity([ActivityTrigger] ExportInput input) =>
        containers.PushAsync(input);
}
