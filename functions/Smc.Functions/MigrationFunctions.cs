using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Smc.Core.Orchestration;
using Smc.Core.Services;

namespace Smc.Functions;

/// <summary>The orchestrator and activity functions: one per registered task, over the shared code.</summary>
public sealed class MigrationFunctions(JobSteps steps, WaveService waves, RoundIssuer rounds, SliceAssembly assembly, ImageFinalizer finalizer, BootVerifier verifier, OssUploadSteps uploads, EcsImportSteps imports, ContainerSteps containers, RoundEndSteps ends, RoundStartSteps starts)
{
    [Function(TaskNames.MigrateServerOrchestrator)]
    public Task<MigrationResult> MigrateServerOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new MigrateServerOrchestrator().RunAsync(context, context.GetInput<MigrationInput>()!);

    [Function(TaskNames.AcquireSourceActivity)]
    public Task<AcquireSourceResult> AcquireSourceActivity([ActivityTrigger] AcquireSourceInput input, CancellationToken cancellationToken) =>
        steps.AcquireSourceAsync(input, cancellationToken);

    [Function(TaskNames.EnterWaitingActivity)]
    public Task<WaitingResult> EnterWaitingActivity([ActivityTrigger] string jobId, CancellationToken cancellationToken) =>
        steps.EnterWaitingAsync(jobId, cancellationToken);

    [Function(TaskNames.BeginRoundActivity)]
    public Task<bool> BeginRoundActivity([ActivityTrigger] string jobId, CancellationToken cancellationToken) =>
        steps.BeginRoundAsync(jobId, cancellationToken);

    [Function(TaskNames.HoldIfPausedActivity)]
    public Task<bool> HoldIfPausedActivity([ActivityTrigger] string jobId, CancellationToken cancellationToken) =>
        steps.HoldIfPausedAsync(jobId, cancellationToken);

    [Function(TaskNames.TakeWaveSlotActivity)]
    public Task<Smc.Core.Api.WaveSlotResult> TakeWaveSlotActivity([ActivityTrigger] string jobId, CancellationToken cancellationToken) =>
        waves.TakeSlotAsync(jobId, cancellationToken);

    [Function(TaskNames.ReleaseWaveSlotActivity)]
    public Task<List<string>> ReleaseWaveSlotActivity([ActivityTrigger] string jobId, CancellationToken cancellationToken) =>
        waves.ReleaseSlotAsync(jobId, cancellationToken);

    [Function(TaskNames.FinishRunActivity)]
    public Task<bool> FinishRunActivity([ActivityTrigger] FinishRunInput input, CancellationToken cancellationToken) =>
        steps.FinishRunAsync(input, cancellationToken);

    [Function(TaskNames.PrepareRoundActivity)]
    public Task<PrepareRoundResult> PrepareRoundActivity([ActivityTrigger] PrepareRoundInput input, CancellationToken cancellationToken) =>
        rounds.PrepareRoundAsync(input, cancellationToken);

    [Function(TaskNames.CheckSyncActivity)]
    public Task<CheckSyncResult> CheckSyncActivity([ActivityTrigger] CheckSyncInput input, CancellationToken cancellationToken) =>
        rounds.CheckSyncAsync(input, cancellationToken);

    [Function(TaskNames.VerifyRoundActivity)]
    public Task<AssemblyPlan> VerifyRoundActivity([ActivityTrigger] VerifyRoundInput input, CancellationToken cancellationToken) =>
        assembly.VerifyRoundAsync(input, cancellationToken);

    [Function(TaskNames.AssembleSliceActivity)]
    public Task<SliceResult> AssembleSliceActivity([ActivityTrigger] SliceInput input, CancellationToken cancellationToken) =>
        assembly.AssembleSliceAsync(input, cancellationToken);

    [Function(TaskNames.FinalizeImageActivity)]
    public Task<bool> FinalizeImageActivity([ActivityTrigger] FinalizeImageInput input, CancellationToken cancellationToken) =>
        finalizer.FinalizeImageAsync(input, cancellationToken);

    [Function(TaskNames.VerifyBootActivity)]
    public Task<bool> VerifyBootActivity([ActivityTrigger] VerifyBootInput input, CancellationToken cancellationToken) =>
        verifier.VerifyAsync(input.JobId, input.Round, input.ImageId, cancellationToken);

    [Function(TaskNames.DiscardImageActivity)]
    public Task<bool> DiscardImageActivity([ActivityTrigger] DiscardImageInput input, CancellationToken cancellationToken) =>
        finalizer.DiscardImageAsync(input, cancellationToken);

    [Function(TaskNames.ImageOutputsActivity)]
    public Task<ImageOutputs> ImageOutputsActivity([ActivityTrigger] VerifyBootInput input, CancellationToken cancellationToken) =>
        ends.ImageOutputsAsync(input, cancellationToken);

    [Function(TaskNames.CleanUpRoundActivity)]
    public Task<CleanUpResult> CleanUpRoundActivity([ActivityTrigger] CleanUpInput input, CancellationToken cancellationToken) =>
        ends.CleanUpAsync(input, cancellationToken);

    [Function(TaskNames.StartRoundActivity)]
    public Task<StartRoundResult> StartRoundActivity([ActivityTrigger] PrepareRoundInput input, CancellationToken cancellationToken) =>
        starts.StartAsync(input, cancellationToken);

    [Function(TaskNames.EndRunActivity)]
    public Task<EndRunResult> EndRunActivity([ActivityTrigger] EndRunInput input, CancellationToken cancellationToken) =>
        ends.EndRunAsync(input, cancellationToken);

    [Function(TaskNames.PurgeStagingActivity)]
    public Task<bool> PurgeStagingActivity([ActivityTrigger] string input, CancellationToken cancellationToken) =>
        rounds.PurgeStagingAsync(input, cancellationToken);

    [Function(TaskNames.BeginExportActivity)]
    public Task<ExportPlan> BeginExportActivity([ActivityTrigger] ExportInput input, CancellationToken cancellationToken) =>
        uploads.BeginAsync(input, cancellationToken);

    [Function(TaskNames.UploadPartsActivity)]
    public Task<UploadPartsResult> UploadPartsActivity([ActivityTrigger] UploadPartsInput input, CancellationToken cancellationToken) =>
        uploads.UploadPartsAsync(input, cancellationToken);

    [Function(TaskNames.CompleteUploadActivity)]
    public Task<ExportStepResult> CompleteUploadActivity([ActivityTrigger] ExportDiskInput input, CancellationToken cancellationToken) =>
        uploads.CompleteUploadAsync(input, cancellationToken);

    [Function(TaskNames.StartImportActivity)]
    public Task<ExportStepResult> StartImportActivity([ActivityTrigger] ExportInput input, CancellationToken cancellationToken) =>
        imports.StartImportAsync(input, cancellationToken);

    [Function(TaskNames.CheckImportActivity)]
    public Task<ImportCheck> CheckImportActivity([ActivityTrigger] ExportInput input, CancellationToken cancellationToken) =>
        imports.CheckImportAsync(input, cancellationToken);

    [Function(TaskNames.EndExportActivity)]
    public Task<bool> EndExportActivity([ActivityTrigger] EndExportInput input, CancellationToken cancellationToken) =>
        imports.EndAsync(input, cancellationToken);

    [Function(TaskNames.LaunchInstanceActivity)]
    public Task<ExportStepResult> LaunchInstanceActivity([ActivityTrigger] string jobId, CancellationToken cancellationToken) =>
        imports.LaunchAsync(jobId, cancellationToken);

    [Function(TaskNames.PushContainerActivity)]
    public Task<ExportStepResult> PushContainerActivity([ActivityTrigger] ExportInput input, CancellationToken cancellationToken) =>
        containers.PushAsync(input, cancellationToken);
}
