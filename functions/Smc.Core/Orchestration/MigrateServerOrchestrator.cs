using System.Globalization;
using Microsoft.DurableTask;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>
/// The runbook of one replication job (instance id = job id):
/// prepare (wait for the source, take it) → sync (the agent uploads a round) → process (verify, assemble
/// the destination disks) → clean (staging) → finished. Deterministic: time from the context, no I/O.
/// <para>Over 400 lines on purpose: the one orchestration, read top to bottom as the runbook (a method per stage); spread over files, its replay rules (no I/O, time from the context, task names fixed) would be checked in several places instead of one.</para>
/// </summary>
public sealed class MigrateServerOrchestrator : TaskOrchestrator<MigrationInput, MigrationResult>
{
    /// <summary>Waits before the history is trimmed with ContinueAsNew.</summary>
    private const int MaxWaitsPerGeneration = 50;

    private const int ActivityAttempts = 5;

    /// <summary>Upload activities of an export in flight at once (each sends <see cref="OssUploadSteps.PartsPerActivity"/> parts).</summary>
    private const int UploadActivitiesAtOnce = 4;

    internal static readonly TaskOptions ActivityRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: ActivityAttempts, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(1)));

    public override async Task<MigrationResult> RunAsync(TaskOrchestrationContext context, MigrationInput input)
    {
        try
        {
            return await RunStagesAsync(context, input);
        }
        catch (TaskFailedException e)
        {
            // A step failed even after its retries: the job must not stay Running. Staged data is kept for a restart.
            return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, ErrorCodes.StepFailed,
                $"{e.TaskName} failed after {ActivityAttempts} attempts ({e.FailureDetails.ErrorType}: {e.FailureDetails.ErrorMessage}). Fix the cause (see the control plane's log), then start the job again: what was uploaded is kept."));
        }
    }

    /// <summary>The stages of one round, in the order the runbook reads: prepare, sync, process (assemble, export or push).</summary>
    private static async Task<MigrationResult> RunStagesAsync(TaskOrchestrationContext context, MigrationInput input)
    {
        if (input.Stage == MigrationStage.Prepare)
        {
            (MigrationResult? ended, MigrationInput syncing) = await PrepareStageAsync(context, input);
            if (ended is not null)
            {
                return ended;
            }

            input = syncing;
        }

        if (input.Stage == MigrationStage.Export)
        {
            ExportPlan resumed = await context.CallActivityAsync<ExportPlan>(TaskNames.BeginExportActivity, new ExportInput(input.JobId, input.Round), ActivityRetry);
            return resumed.Round is null && resumed.ErrorCode is null ? await AfterImageAsync(context, input) : await ExportStageAsync(context, input, resumed);
        }

        (MigrationResult? stopped, RoundCommit? commit) = await SyncStageAsync(context, input);
        return stopped ?? await ProcessStageAsync(context, input, commit!);
    }

    /// <summary>
    /// 0–1. Prepare: wait for scheduledStartTime, finish an export a restart left, hold the source (InUse) and issue the
    /// round to the agent. Either the orchestration ends here, or the input of the Syncing stage comes back.
    /// </summary>
    private static async Task<(MigrationResult? Ended, MigrationInput Syncing)> PrepareStageAsync(TaskOrchestrationContext context, MigrationInput input)
    {
        // scheduledStartTime: the first round waits for it (a durable timer; a host restart keeps it).
        while (input.NotBeforeUtc is DateTime notBefore && notBefore > context.CurrentUtcDateTime)
        {
            await context.CreateTimer(TimerStep(context, notBefore), CancellationToken.None);
        }

        // Version 6: the steps below in one activity, as far as they go through; a step that stops it is waited on with
        // its own activity, from the answer the first one gave.
        var round = new PrepareRoundInput(input.JobId, input.Round, input.RunType, input.Final);
        StartRoundResult? started = input.Version >= 6
            ? await context.CallActivityAsync<StartRoundResult>(TaskNames.StartRoundActivity, round, ActivityRetry)
            : null;

        // A restarted job whose newest round is an image but not yet an ECS image finishes that export first.
        ExportPlan pending = started?.Pending ?? (input.Version >= 1
            ? await context.CallActivityAsync<ExportPlan>(TaskNames.BeginExportActivity, new ExportInput(input.JobId, null), ActivityRetry)
            : new ExportPlan(null, [], 0, null, null));
        if (pending.Round is int exportRound)
        {
            return (await ExportStageAsync(context, input with { Stage = MigrationStage.Export, Round = exportRound, Generation = 0, NotBeforeUtc = null }, pending), input);
        }

        if (pending.ErrorCode is not null)
        {
            return (await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, pending.ErrorCode, pending.Message)), input);
        }

        PrepareRoundResult? prepared = started?.Prepared;
        if (prepared is null)
        {
            // Preparing: wait until the source server is Available, then hold it (InUse).
            if (started?.Acquired is not { Outcome: AcquireOutcome.Acquired })
            {
                MigrationResult? early = await AcquireSourceAsync(context, input, started?.Acquired);
                if (early is not null)
                {
                    return (early, input);
                }

                started = null; // the wave slot was not asked for
            }

            // A wave's cap and window: the round waits for a slot before it is issued.
            if (input.Version >= 4 && await WaitForWaveSlotAsync(context, input, started?.Slot) is { } queuedOut)
            {
                return (queuedOut, input);
            }

            prepared = await context.CallActivityAsync<PrepareRoundResult>(TaskNames.PrepareRoundActivity, round, ActivityRetry);
        }

        if (!prepared.Ok)
        {
            return (await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, prepared.ErrorCode, prepared.Message)), input);
        }

        return (null, input with { Round = prepared.Round, Stage = MigrationStage.Syncing, SyncingSinceUtc = context.CurrentUtcDateTime, Generation = 0, NotBeforeUtc = null });
    }

    /// <summary>
    /// 2. Syncing: the agent uploads the round and commits it; a failure it reports, or its silence, ends the job. Long
    /// waits continue as new so the history stays bounded. Either the commit comes back, or how the orchestration ended.
    /// </summary>
    private static async Task<(MigrationResult? Ended, RoundCommit? Commit)> SyncStageAsync(TaskOrchestrationContext context, MigrationInput input)
    {
        for (int waits = 0; ; waits++)
        {
            if (waits >= MaxWaitsPerGeneration)
            {
                context.ContinueAsNew(input with { Generation = input.Generation + 1 });
                return (new MigrationResult(input.JobId, JobStatus.Running, null), null);
            }

            using var cts = new CancellationTokenSource();
            Task<RoundCommit> committed = context.WaitForExternalEvent<RoundCommit>(MigrationEvents.RoundCommitted, cts.Token);
            Task<RoundFailure> agentFailed = context.WaitForExternalEvent<RoundFailure>(MigrationEvents.RoundFailed, cts.Token);
            Task timer = context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(input.RecheckSeconds), cts.Token);
            Task first = await Task.WhenAny(committed, agentFailed, timer);
#pragma warning disable CA1849 // Cancel of a durable timer is not I/O.
            cts.Cancel();
#pragma warning restore CA1849
            if (first == committed && committed.Result.Round == input.Round)
            {
                return (null, committed.Result);
            }

            if (first == agentFailed && agentFailed.Result.Round == input.Round)
            {
                RoundFailure failure = agentFailed.Result;
                return (await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, failure.ErrorCode,
                    $"{failure.Message} What was uploaded is kept: start the job again once the source is fixed.")), null);
            }

            CheckSyncResult check = await context.CallActivityAsync<CheckSyncResult>(
                TaskNames.CheckSyncActivity, new CheckSyncInput(input.JobId, input.Round, input.SyncingSinceUtc ?? context.CurrentUtcDateTime), ActivityRetry);
            if (check.Outcome == SyncOutcome.JobGone)
            {
                return (new MigrationResult(input.JobId, MigrationResult.Gone, null), null);
            }

            if (check.Outcome == SyncOutcome.Lost)
            {
                return (await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, check.ErrorCode, check.Message)), null);
            }
        }
    }

    /// <summary>
    /// 3. Processing: verify the committed round and assemble the destination disks slice by slice into a local image;
    /// then (3b) export it to Alibaba Cloud, or (3c) push a ContainerImage round to its registry; then what follows an image.
    /// </summary>
    private static async Task<MigrationResult> ProcessStageAsync(TaskOrchestrationContext context, MigrationInput input, RoundCommit commit)
    {
        AssemblyPlan plan = await context.CallActivityAsync<AssemblyPlan>(
            TaskNames.VerifyRoundActivity, new VerifyRoundInput(input.JobId, input.Round, commit.ManifestSha256), ActivityRetry);
        if (plan.ErrorCode is not null || plan.ImageId is null)
        {
            return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, plan.ErrorCode, plan.Message));
        }

        SliceResult[] slices = await Task.WhenAll(plan.Slices.Select(s =>
            context.CallActivityAsync<SliceResult>(TaskNames.AssembleSliceActivity, s, ActivityRetry)));
        SliceResult? failed = slices.FirstOrDefault(s => s.ErrorCode is not null);
        if (failed is not null)
        {
            await context.CallActivityAsync<bool>(TaskNames.DiscardImageActivity, new DiscardImageInput(input.JobId, plan.ImageId), ActivityRetry);
            return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, failed.ErrorCode, failed.Message));
        }

        await context.CallActivityAsync<bool>(TaskNames.FinalizeImageActivity,
            new FinalizeImageInput(input.JobId, input.Round, commit.ManifestSha256, plan.ImageId, slices.Sum(s => s.WrittenBytes)), ActivityRetry);

        if (input.Version >= 5)
        {
            // 3a–3c in one activity: boot test, then the export plan or the push.
            ImageOutputs outputs = await context.CallActivityAsync<ImageOutputs>(
                TaskNames.ImageOutputsActivity, new VerifyBootInput(input.JobId, input.Round, plan.ImageId), ActivityRetry);
            if (outputs.Export.Round is not null || outputs.Export.ErrorCode is not null)
            {
                return await ExportStageAsync(context, input with { Stage = MigrationStage.Export, Generation = 0 }, outputs.Export);
            }

            return outputs.Pushed?.ErrorCode is not null
                ? await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, outputs.Pushed.ErrorCode, outputs.Pushed.Message))
                : await AfterImageAsync(context, input);
        }

        // 3a. The image boots? (a virtual machine where the host has qemu; NotRun otherwise; never fails the round).
        if (input.Version >= 2)
        {
            await context.CallActivityAsync<bool>(TaskNames.VerifyBootActivity, new VerifyBootInput(input.JobId, input.Round, plan.ImageId), ActivityRetry);
        }

        // 3b. Provider alibaba: the image's disks go to OSS and become an ECS image (nothing to do for local).
        ExportPlan export = input.Version >= 1
            ? await context.CallActivityAsync<ExportPlan>(TaskNames.BeginExportActivity, new ExportInput(input.JobId, input.Round), ActivityRetry)
            : new ExportPlan(null, [], 0, null, null);
        if (export.Round is not null || export.ErrorCode is not null)
        {
            return await ExportStageAsync(context, input with { Stage = MigrationStage.Export, Generation = 0 }, export);
        }

        // 3c. ContainerImage with a registry: the round's tar goes there as a layer (nothing to do otherwise).
        if (input.Version >= 1)
        {
            ExportStepResult pushed = await context.CallActivityAsync<ExportStepResult>(TaskNames.PushContainerActivity, new ExportInput(input.JobId, input.Round), ActivityRetry);
            if (pushed.ErrorCode is not null)
            {
                return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, pushed.ErrorCode, pushed.Message));
            }
        }

        return await AfterImageAsync(context, input);
    }

    /// <summary>
    /// Export of the round's image (provider alibaba): upload the parts each disk is missing, a few activities at a time,
    /// complete each disk's upload, start ImportImage, poll it with durable timers until Available. A failure the operator
    /// must fix ends InError and aborts unfinished uploads; long exports continue as new, so the history stays bounded.
    /// </summary>
    private static async Task<MigrationResult> ExportStageAsync(TaskOrchestrationContext context, MigrationInput input, ExportPlan plan)
    {
        if (plan.Round is not int round)
        {
            return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, plan.ErrorCode ?? ErrorCodes.StepFailed, plan.Message));
        }

        if (plan.ErrorCode is not null)
        {
            return await FailExportAsync(context, input with { Round = round }, plan.ErrorCode, plan.Message);
        }

        int batches = 0;
        foreach (ExportDiskPlan disk in plan.Disks)
        {
            List<List<int>> work = [.. disk.Missing.Chunk(OssUploadSteps.PartsPerActivity).Select(c => c.ToList())];
            for (int i = 0; i < work.Count; i += UploadActivitiesAtOnce)
            {
                if (batches >= MaxWaitsPerGeneration)
                {
                    context.ContinueAsNew(input with { Generation = input.Generation + 1 });
                    return new MigrationResult(input.JobId, JobStatus.Running, null);
                }

                UploadPartsResult[] sent = await Task.WhenAll(work.Skip(i).Take(UploadActivitiesAtOnce).Select(parts =>
                    context.CallActivityAsync<UploadPartsResult>(TaskNames.UploadPartsActivity, new UploadPartsInput(input.JobId, round, disk.Index, parts), ActivityRetry)));
                batches++;
                if (sent.FirstOrDefault(s => s.ErrorCode is not null) is { } refused)
                {
                    return await FailExportAsync(context, input, refused.ErrorCode, refused.Message);
                }
            }

            ExportStepResult completed = await context.CallActivityAsync<ExportStepResult>(TaskNames.CompleteUploadActivity, new ExportDiskInput(input.JobId, round, disk.Index), ActivityRetry);
            if (completed.ErrorCode is not null)
            {
                return await FailExportAsync(context, input, completed.ErrorCode, completed.Message);
            }
        }

        ExportStepResult import = await context.CallActivityAsync<ExportStepResult>(TaskNames.StartImportActivity, new ExportInput(input.JobId, round), ActivityRetry);
        if (import.ErrorCode is not null)
        {
            return await FailExportAsync(context, input, import.ErrorCode, import.Message);
        }

        for (int polls = 0; ; polls++)
        {
            ImportCheck check = await context.CallActivityAsync<ImportCheck>(TaskNames.CheckImportActivity, new ExportInput(input.JobId, round), ActivityRetry);
            if (check.ErrorCode is not null)
            {
                return await FailExportAsync(context, input, check.ErrorCode, check.Message);
            }

            if (check.Status == Domain.CloudExportStatus.Available)
            {
                break;
            }

            if (polls >= MaxWaitsPerGeneration)
            {
                context.ContinueAsNew(input with { Generation = input.Generation + 1 });
                return new MigrationResult(input.JobId, JobStatus.Running, null);
            }

            await context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(plan.PollSeconds), CancellationToken.None);
        }

        await context.CallActivityAsync<bool>(TaskNames.EndExportActivity, new EndExportInput(input.JobId, round, Succeeded: true), ActivityRetry);
        return await AfterImageAsync(context, input with { Stage = MigrationStage.Prepare });
    }

    private static async Task<MigrationResult> FailExportAsync(TaskOrchestrationContext context, MigrationInput input, string? code, string? message)
    {
        await context.CallActivityAsync<bool>(TaskNames.EndExportActivity, new EndExportInput(input.JobId, input.Round, Succeeded: false), ActivityRetry);
        return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, code ?? ErrorCodes.StepFailed, message));
    }

    /// <summary>4. Cleaning, then the next round's wait (incremental jobs) or the end.</summary>
    private static async Task<MigrationResult> AfterImageAsync(TaskOrchestrationContext context, MigrationInput input)
    {
        if (input.Version >= 5)
        {
            CleanUpResult cleaned = await context.CallActivityAsync<CleanUpResult>(TaskNames.CleanUpRoundActivity, new CleanUpInput(input.JobId, input.Final), ActivityRetry);
            if (!cleaned.Incremental)
            {
                return await FinishedAsync(context, input);
            }

            Wake(context, input.JobId, cleaned.Wake);
            return await WaitForNextRoundAsync(context, input, cleaned.IntervalSeconds);
        }

        // 4. Cleaning: staging is no longer needed once the round is an image.
        await context.CallActivityAsync<bool>(TaskNames.PurgeStagingActivity, input.JobId, ActivityRetry);

        // 5. Incremental jobs wait for their next round (timer, start, or cutover); one-shot jobs and cutover rounds end.
        if (!input.Final)
        {
            WaitingResult waiting = await context.CallActivityAsync<WaitingResult>(TaskNames.EnterWaitingActivity, input.JobId, ActivityRetry);
            if (waiting.Incremental)
            {
                await ReleaseWaveSlotAsync(context, input);
                return await WaitForNextRoundAsync(context, input, waiting.IntervalSeconds);
            }
        }

        return await FinishedAsync(context, input);
    }

    /// <summary>
    /// Waiting: the next round runs when the sync interval has passed (Schedule), on start (Manual), or as the cutover
    /// round; cutover without syncData finishes with the newest image. Each round is a new generation (ContinueAsNew),
    /// so the history stays the size of one round however many rounds a job runs.
    /// </summary>
    private static async Task<MigrationResult> WaitForNextRoundAsync(TaskOrchestrationContext context, MigrationInput input, int intervalSeconds)
    {
        using var cts = new CancellationTokenSource();
        Task<string?> syncNow = context.WaitForExternalEvent<string?>(MigrationEvents.SyncNow, cts.Token);
        Task<string?> cutover = context.WaitForExternalEvent<string?>(MigrationEvents.Cutover, cts.Token);
        Task<int> intervalChanged = context.WaitForExternalEvent<int>(MigrationEvents.IntervalChanged, cts.Token);
        DateTime waitStart = context.CurrentUtcDateTime;
        DateTime due = waitStart.AddSeconds(intervalSeconds);
        Task first;
        bool again;
        do
        {
            using var timerCts = new CancellationTokenSource();
            Task timer = context.CreateTimer(TimerStep(context, due), timerCts.Token);
            first = await Task.WhenAny(syncNow, cutover, intervalChanged, timer);
            again = first == intervalChanged || (first == timer && context.CurrentUtcDateTime < due) || (first == syncNow && IsStale(syncNow.Result, input.Round));
            if (first == syncNow && again)
            {
                // A start that asked for a round that has run since (two starts at once, or a start and the timer).
                syncNow = context.WaitForExternalEvent<string?>(MigrationEvents.SyncNow, cts.Token);
            }

            if (first == intervalChanged)
            {
                // PATCH of syncInterval: the wait under way now ends at its start + the new interval (at once if that passed).
                due = waitStart.AddSeconds(intervalChanged.Result);
                intervalChanged = context.WaitForExternalEvent<int>(MigrationEvents.IntervalChanged, cts.Token);
            }

            if (first != timer)
            {
#pragma warning disable CA1849 // Cancel of a durable timer is not I/O.
                timerCts.Cancel();
#pragma warning restore CA1849
            }
        }
        while (again);

        bool scheduled = first != syncNow && first != cutover;
        if (scheduled && input.Version >= 3)
        {
            // Paused: the scheduled round waits for resume; a start or a cutover meanwhile still runs its round.
            first = await HoldWhilePausedAsync(context, input, syncNow, cutover) ?? first;
            scheduled = first != syncNow && first != cutover;
        }

#pragma warning disable CA1849 // Cancel of a durable timer is not I/O.
        cts.Cancel();
#pragma warning restore CA1849
        if (first == cutover && cutover.Result != "true")
        {
            return await FinishedAsync(context, input);
        }

        if (!await context.CallActivityAsync<bool>(TaskNames.BeginRoundActivity, input.JobId, ActivityRetry))
        {
            return new MigrationResult(input.JobId, MigrationResult.Gone, null);
        }

        context.ContinueAsNew(input with
        {
            Stage = MigrationStage.Prepare,
            Round = input.Round + 1,
            Generation = 0,
            SyncingSinceUtc = null,
            RunType = scheduled ? RunTypes.Schedule : RunTypes.Manual,
            Final = first == cutover,
        });
        return new MigrationResult(input.JobId, JobStatus.Running, null);
    }

    /// <summary>
    /// While the job is paused (<see cref="HoldIfPausedActivity"/> says so, checked again after every wake-up, since a
    /// resume event may be stale), waits for a resume, a start or a cutover — or an hour, as a safety net. Null: not
    /// paused (any more), the scheduled round goes on; else the start or cutover that came.
    /// </summary>
    private static async Task<Task?> HoldWhilePausedAsync(TaskOrchestrationContext context, MigrationInput input, Task<string?> syncNow, Task<string?> cutover)
    {
        while (await context.CallActivityAsync<bool>(TaskNames.HoldIfPausedActivity, input.JobId, ActivityRetry))
        {
            using var cts = new CancellationTokenSource();
            Task<string?> resumed = context.WaitForExternalEvent<string?>(MigrationEvents.Resumed, cts.Token);
            Task recheck = context.CreateTimer(context.CurrentUtcDateTime.Add(PausedRecheck), cts.Token);
            Task woke = await Task.WhenAny(resumed, syncNow, cutover, recheck);
#pragma warning disable CA1849 // Cancel of a durable timer is not I/O.
            cts.Cancel();
#pragma warning restore CA1849
            if (woke == cutover || woke == syncNow)
            {
                return woke;
            }
        }

        return null;
    }

    private static readonly TimeSpan PausedRecheck = TimeSpan.FromHours(1);

    /// <summary>A start asks for the round after the one it saw; it is stale once that round has run (older starts carry none).</summary>
    private static bool IsStale(string? requestedRound, int lastRound) =>
        int.TryParse(requestedRound, NumberStyles.None, CultureInfo.InvariantCulture, out int round) && round <= lastRound;

    /// <summary>Long waits (up to P7D intervals, 30-day schedules) as a chain of timers of at most 5 days each.</summary>
    private static DateTime TimerStep(TaskOrchestrationContext context, DateTime due) =>
        due - context.CurrentUtcDateTime > MaxTimer ? context.CurrentUtcDateTime + MaxTimer : due;

    private static readonly TimeSpan MaxTimer = TimeSpan.FromDays(5);

    /// <summary>Waits until the source is taken; <paramref name="first"/>: the answer a first try already gave (version 6).</summary>
    private static async Task<MigrationResult?> AcquireSourceAsync(TaskOrchestrationContext context, MigrationInput input, AcquireSourceResult? first = null)
    {
        for (int waits = 0; ; waits++)
        {
            AcquireSourceResult acquired = first ?? await context.CallActivityAsync<AcquireSourceResult>(
                TaskNames.AcquireSourceActivity, new AcquireSourceInput(input.JobId), ActivityRetry);
            first = null;
            switch (acquired.Outcome)
            {
                case AcquireOutcome.Acquired:
                    return null;
                case AcquireOutcome.JobGone:
                    return new MigrationResult(input.JobId, MigrationResult.Gone, null);
                case AcquireOutcome.SourceGone:
                    return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.InError, ErrorCodes.RoundSourceGone, acquired.Message));
            }

            if (waits >= MaxWaitsPerGeneration)
            {
                context.ContinueAsNew(input with { Generation = input.Generation + 1 });
                return new MigrationResult(input.JobId, JobStatus.Running, null);
            }

            // The heartbeat route signals when the source comes back; the timer is the safety net.
            using var cts = new CancellationTokenSource();
            Task<string> signal = context.WaitForExternalEvent<string>(MigrationEvents.SourceAvailable, cts.Token);
            Task timer = context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(input.RecheckSeconds), cts.Token);
            await Task.WhenAny(signal, timer);
#pragma warning disable CA1849 // Cancel of a durable timer is not I/O.
            cts.Cancel();
#pragma warning restore CA1849
        }
    }

    /// <summary>The job is done: its test launch first, if it asked for one (a refused launch is reported, the job still Finished).</summary>
    private static async Task<MigrationResult> FinishedAsync(TaskOrchestrationContext context, MigrationInput input)
    {
        if (input.Version >= 5)
        {
            return await EndRunAsync(context, new FinishRunInput(input.JobId, JobStatus.Finished, null, null), launch: true);
        }

        ExportStepResult launched = input.Version >= 1
            ? await context.CallActivityAsync<ExportStepResult>(TaskNames.LaunchInstanceActivity, input.JobId, ActivityRetry)
            : new ExportStepResult(null, null);
        return await FinishAsync(context, new FinishRunInput(input.JobId, JobStatus.Finished, launched.ErrorCode, launched.Message));
    }

    private static async Task<MigrationResult> FinishAsync(TaskOrchestrationContext context, FinishRunInput finish)
    {
        if (context.GetInput<MigrationInput>() is { Version: >= 5 })
        {
            return await EndRunAsync(context, finish, launch: false);
        }

        await context.CallActivityAsync(TaskNames.FinishRunActivity, finish, ActivityRetry);
        if (context.GetInput<MigrationInput>() is { Version: >= 4 } input)
        {
            await ReleaseWaveSlotAsync(context, input);
        }

        return new MigrationResult(finish.JobId, finish.Status, finish.ErrorCode);
    }

    /// <summary>
    /// Takes a slot of the job's wave, waiting in its queue while the wave's rounds are at their cap or outside its
    /// window: woken by a round that ended (<see cref="MigrationEvents.WaveSlotFree"/>), at the window's opening, or by
    /// the recheck timer (a slot held by a job that ended without giving it back is taken back on a take). Null: go on.
    /// <paramref name="first"/>: the answer a first take already gave (version 6).
    /// </summary>
    private static async Task<MigrationResult?> WaitForWaveSlotAsync(TaskOrchestrationContext context, MigrationInput input, WaveSlotResult? first = null)
    {
        for (int waits = 0; ; waits++)
        {
            WaveSlotResult slot = first ?? await context.CallActivityAsync<WaveSlotResult>(TaskNames.TakeWaveSlotActivity, input.JobId, ActivityRetry);
            first = null;
            if (slot.Granted)
            {
                return null;
            }

            if (slot.JobGone)
            {
                return new MigrationResult(input.JobId, MigrationResult.Gone, null);
            }

            if (waits >= MaxWaitsPerGeneration)
            {
                context.ContinueAsNew(input with { Generation = input.Generation + 1 });
                return new MigrationResult(input.JobId, JobStatus.Running, null);
            }

            using var cts = new CancellationTokenSource();
            Task<string?> freed = context.WaitForExternalEvent<string?>(MigrationEvents.WaveSlotFree, cts.Token);
            DateTime until = slot.RetryAtUtc is { } opens ? TimerStep(context, opens) : context.CurrentUtcDateTime.AddSeconds(input.RecheckSeconds);
            Task timer = context.CreateTimer(until, cts.Token);
            await Task.WhenAny(freed, timer);
#pragma warning disable CA1849 // Cancel of a durable timer is not I/O.
            cts.Cancel();
#pragma warning restore CA1849
        }
    }

    /// <summary>The round ended: its wave slot goes back, and the first queued rounds of the wave are woken to take it.</summary>
    private static async Task ReleaseWaveSlotAsync(TaskOrchestrationContext context, MigrationInput input) =>
        Wake(context, input.JobId, await context.CallActivityAsync<List<string>>(TaskNames.ReleaseWaveSlotActivity, input.JobId, ActivityRetry));

    /// <summary>Version 5: the run's end (test launch, record, wave slot) in one activity, then the wave's queued rounds woken.</summary>
    private static async Task<MigrationResult> EndRunAsync(TaskOrchestrationContext context, FinishRunInput finish, bool launch)
    {
        EndRunResult ended = await context.CallActivityAsync<EndRunResult>(TaskNames.EndRunActivity, new EndRunInput(finish, launch), ActivityRetry);
        Wake(context, finish.JobId, ended.Wake);
        return new MigrationResult(finish.JobId, finish.Status, ended.ErrorCode);
    }

    private static void Wake(TaskOrchestrationContext context, string freedBy, List<string> jobIds)
    {
        foreach (string jobId in jobIds)
        {
            context.SendEvent(jobId, MigrationEvents.WaveSlotFree, freedBy);
        }
    }
}
