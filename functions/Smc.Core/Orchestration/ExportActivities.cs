using Microsoft.DurableTask;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Sets up (or picks up) a round's export to Alibaba Cloud and lists the parts each disk still needs.</summary>
public sealed class BeginExportActivity(ExportSteps steps) : TaskActivity<ExportInput, ExportPlan>
{
    public override Task<ExportPlan> RunAsync(TaskActivityContext context, ExportInput input) => steps.BeginAsync(input);
}

/// <summary>Uploads a batch of a disk's parts to OSS (those OSS doesn't list yet).</summary>
public sealed class UploadPartsActivity(ExportSteps steps) : TaskActivity<UploadPartsInput, UploadPartsResult>
{
    public override Task<UploadPartsResult> RunAsync(TaskActivityContext context, UploadPartsInput input) => steps.UploadPartsAsync(input);
}

/// <summary>Completes a disk's multipart upload.</summary>
public sealed class CompleteUploadActivity(ExportSteps steps) : TaskActivity<ExportDiskInput, ExportStepResult>
{
    public override Task<ExportStepResult> RunAsync(TaskActivityContext context, ExportDiskInput input) => steps.CompleteUploadAsync(input);
}

/// <summary>Starts ECS ImportImage for the round's disks (idempotent through its ClientToken).</summary>
public sealed class StartImportActivity(ExportSteps steps) : TaskActivity<ExportInput, ExportStepResult>
{
    public override Task<ExportStepResult> RunAsync(TaskActivityContext context, ExportInput input) => steps.StartImportAsync(input);
}

/// <summary>Polls the ECS import once.</summary>
public sealed class CheckImportActivity(ExportSteps steps) : TaskActivity<ExportInput, ImportCheck>
{
    public override Task<ImportCheck> RunAsync(TaskActivityContext context, ExportInput input) => steps.CheckImportAsync(input);
}

/// <summary>Ends an export: cleanup and ECS retention, or aborting unfinished uploads.</summary>
public sealed class EndExportActivity(ExportSteps steps) : TaskActivity<EndExportInput, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, EndExportInput input) => steps.EndAsync(input);
}

/// <summary>The test launch of a finishing job (RunInstances from its newest ECS image), when the job asked for one.</summary>
public sealed class LaunchInstanceActivity(ExportSteps steps) : TaskActivity<string, ExportStepResult>
{
    public override Task<ExportStepResult> RunAsync(TaskActivityContext context, string input) => steps.LaunchAsync(input);
}

/// <summary>Pushes a ContainerImage round's image (the root tree's tar) to the job's registry.</summary>
public sealed class PushContainerActivity(ContainerSteps steps) : TaskActivity<ExportInput, ExportStepResult>
{
    public override Task<ExportStepResult> RunAsync(TaskActivityContext context, ExportInput input) => steps.PushAsync(input);
}
