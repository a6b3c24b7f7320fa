using Microsoft.DurableTask;

namespace Smc.Core.Orchestration;

/// <summary>The one registration of every orchestrator and activity, used by the standalone host.</summary>
public static class MigrationTasks
{
    public static void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestrator<MigrateServerOrchestrator>();
        registry.AddActivity<AcquireSourceActivity>();
        registry.AddActivity<FinishRunActivity>();
        registry.AddActivity<PrepareRoundActivity>();
        registry.AddActivity<CheckSyncActivity>();
        registry.AddActivity<VerifyRoundActivity>();
        registry.AddActivity<AssembleSliceActivity>();
        registry.AddActivity<FinalizeImageActivity>();
        registry.AddActivity<VerifyBootActivity>();
        registry.AddActivity<DiscardImageActivity>();
        registry.AddActivity<PurgeStagingActivity>();
        registry.AddActivity<EnterWaitingActivity>();
        registry.AddActivity<BeginRoundActivity>();
        registry.AddActivity<HoldIfPausedActivity>();
        registry.AddActivity<TakeWaveSlotActivity>();
        registry.AddActivity<ReleaseWaveSlotActivity>();
        registry.AddActivity<BeginExportActivity>();
        registry.AddActivity<UploadPartsActivity>();
        registry.AddActivity<CompleteUploadActivity>();
        registry.AddActivity<StartImportActivity>();
        registry.AddActivity<CheckImportActivity>();
        registry.AddActivity<EndExportActivity>();
        registry.AddActivity<LaunchInstanceActivity>();
        registry.AddActivity<PushContainerActivity>();
        registry.AddActivity<ImageOutputsActivity>();
        registry.AddActivity<CleanUpRoundActivity>();
        registry.AddActivity<EndRunActivity>();
        registry.AddActivity<StartRoundActivity>();
    }
}
