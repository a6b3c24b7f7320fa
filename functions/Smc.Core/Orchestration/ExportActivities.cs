using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>Sets up (or picks up) a round's export to Alibaba Cloud and lists the parts each disk still needs.</summary>
public sealed class BeginExportActivity(OssUploadSteps steps, IHostApplicationLifetime host) : TaskActivity<ExportInput, ExportPlan>
{
    public override Task<ExportPlan> RunAsync(TaskActivityContext context, ExportInput input) => steps.BeginAsync(input, host.ApplicationStopping);
}

/// <summary>Uploads a batch of a disk's parts to OSS (those OSS doesn't list yet).</summary>
public sealed class UploadPartsActivity(OssUploadSteps steps, IHostApplicationLifetime host) : TaskActivity<UploadPartsInput, UploadPartsResult>
{
    public override Task<UploadPartsResult> RunAsync(TaskActivityContext context, UploadPartsInput input) => steps.UploadPartsAsync(input, host.ApplicationStopping);
}

/// <summary>Completes a disk's multipart upload.</summary>
public sealed class CompleteUploadActivity(OssUploadSteps steps, IHostApplicationLifetime host) : TaskActivity<ExportDiskInput, ExportStepResult>
{
    public override Task<ExportStepResult> RunAsync(TaskActivityContext context, ExportDiskInput input) => steps.CompleteUploadAsync(input, host.ApplicationStopping);
}

/// <summary>Starts ECS ImportImage for the round's disks (idempotent through its ClientToken).</summary>
public sealed class StartImportActivity(EcsImportSteps steps, IHostApplicationLifetime host) : TaskActivity<ExportInput, ExportStepResult>
{
    public override Task<ExportStepResult> RunAsync(TaskActivityContext context, ExportInput input) => steps.StartImportAsync(input, host.ApplicationStopping);
}

/// <summary>Polls the ECS import once.</summary>
public sealed class CheckImportActivity(EcsImportSteps steps, IHostApplicationLifetime host) : TaskActivity<ExportInput, ImportCheck>
{
    public override Task<ImportCheck> RunAsync(TaskActivityContext context, ExportInput input) => steps.CheckImportAsync(input, host.ApplicationStopping);
}

/// <summary>Ends an export: cleanup and ECS retention, or aborting unfinished uploads.</summary>
public sealed class EndExportActivity(EcsImportSteps steps, IHostApplicationLifetime host) : TaskActivity<EndExportInput, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, EndExportInput input) => steps.EndAsync(input, host.ApplicationStopping);
}

/// <summary>The test launch of a finishing job (RunInstances from its newest ECS image), when the job asked for one.</summary>
public sealed class LaunchInstanceActivity(EcsImportSteps steps, IHostApplicationLifetime host) : TaskActivity<string, ExportStepResult>
{
    public override Task<ExportStepResult> RunAsync(TaskActivityContext context, string input) => steps.LaunchAsync(input, host.ApplicationStopping);
}

/// <summary>Pushes a ContainerImage round's image (the root tree's tar) to the job's registry.</summary>
public sealed class PushContainerActivity(ContainerSteps steps, IHostApplicationLifetime host) : TaskActivity<ExportInput, ExportStepResult>
{
    public override Task<ExportStepResult> RunAsync(TaskActivityContext context, ExportInput input) => steps.PushAsync(input, host.ApplicationStopping);
}
