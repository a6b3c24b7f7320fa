namespace Smc.Core.Orchestration;

/// <summary>
/// Names of every orchestrator and activity. They are recorded in durable histories of jobs in flight:
/// a shipped name is never renamed. The Functions app declares one function per name (a test checks).
/// </summary>
public static class TaskNames
{
    public const string MigrateServerOrchestrator = nameof(Orchestration.MigrateServerOrchestrator);
    public const string AcquireSourceActivity = nameof(Orchestration.AcquireSourceActivity);
    public const string FinishRunActivity = nameof(Orchestration.FinishRunActivity);
    public const string PrepareRoundActivity = nameof(Orchestration.PrepareRoundActivity);
    public const string CheckSyncActivity = nameof(Orchestration.CheckSyncActivity);
    public const string VerifyRoundActivity = nameof(Orchestration.VerifyRoundActivity);
    public const string AssembleSliceActivity = nameof(Orchestration.AssembleSliceActivity);
    public const string FinalizeImageActivity = nameof(Orchestration.FinalizeImageActivity);
    public const string VerifyBootActivity = nameof(Orchestration.VerifyBootActivity);
    public const string DiscardImageActivity = nameof(Orchestration.DiscardImageActivity);
    public const string PurgeStagingActivity = nameof(Orchestration.PurgeStagingActivity);
    public const string EnterWaitingActivity = nameof(Orchestration.EnterWaitingActivity);
    public const string BeginRoundActivity = nameof(Orchestration.BeginRoundActivity);
    public const string HoldIfPausedActivity = nameof(Orchestration.HoldIfPausedActivity);
    public const string TakeWaveSlotActivity = nameof(Orchestration.TakeWaveSlotActivity);
    public const string ReleaseWaveSlotActivity = nameof(Orchestration.ReleaseWaveSlotActivity);
    public const string BeginExportActivity = nameof(Orchestration.BeginExportActivity);
    public const string UploadPartsActivity = nameof(Orchestration.UploadPartsActivity);
    public const string CompleteUploadActivity = nameof(Orchestration.CompleteUploadActivity);
    public const string StartImportActivity = nameof(Orchestration.StartImportActivity);
    public const string CheckImportActivity = nameof(Orchestration.CheckImportActivity);
    public const string EndExportActivity = nameof(Orchestration.EndExportActivity);
    public const string LaunchInstanceActivity = nameof(Orchestration.LaunchInstanceActivity);
    public const string PushContainerActivity = nameof(Orchestration.PushContainerActivity);
    public const string ImageOutputsActivity = nameof(Orchestration.ImageOutputsActivity);
    public const string CleanUpRoundActivity = nameof(Orchestration.CleanUpRoundActivity);
    public const string EndRunActivity = nameof(Orchestration.EndRunActivity);
    public const string StartRoundActivity = nameof(Orchestration.StartRoundActivity);

    public static readonly IReadOnlyList<string> Orchestrators = [MigrateServerOrchestrator];

    public static readonly IReadOnlyList<string> Activities =
    [
        AcquireSourceActivity, FinishRunActivity, PrepareRoundActivity, CheckSyncActivity, VerifyRoundActivity,
        AssembleSliceActivity, FinalizeImageActivity, VerifyBootActivity, DiscardImageActivity, PurgeStagingActivity, EnterWaitingActivity, BeginRoundActivity, HoldIfPausedActivity,
        TakeWaveSlotActivity, ReleaseWaveSlotActivity,
        BeginExportActivity, UploadPartsActivity, CompleteUploadActivity, StartImportActivity, CheckImportActivity, EndExportActivity, LaunchInstanceActivity, PushContainerActivity,
        ImageOutputsActivity, CleanUpRoundActivity, EndRunActivity, StartRoundActivity,
    ];
}
