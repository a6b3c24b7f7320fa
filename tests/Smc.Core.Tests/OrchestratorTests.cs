using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Orchestration;
using Smc.Core.Services;

namespace Smc.Core.Tests;

/// <summary>
/// The migration orchestrator's branches on the Durable Task in-process test host (its real replay engine), with the
/// activities scripted: which steps run, in what order, and how the run ends. The steps themselves, and the
/// orchestration on the Azure Storage backend, are the integration suite's.
/// </summary>
public sealed class OrchestratorTests
{
    private const string JobId = "j-aaaaaaaaaaaaaaaa";

    [Fact]
    public async Task OneRound_CommittedAndAssembled_FinalizedPurgedFinished_InNineActivities()
    {
        var steps = new Steps();
        MigrationResult result = await RunOneRoundAsync(steps);

        Assert.Equal(JobStatus.Finished, result.Status);
        Assert.Equal(
            [TaskNames.StartRoundActivity, TaskNames.VerifyRoundActivity,
             TaskNames.AssembleSliceActivity, TaskNames.AssembleSliceActivity, TaskNames.AssembleSliceActivity, TaskNames.FinalizeImageActivity,
             TaskNames.ImageOutputsActivity, TaskNames.CleanUpRoundActivity, TaskNames.EndRunActivity],
            steps.Calls.ToArray());
        Assert.Equal(3 * Steps.SliceBytes, Assert.Single(steps.Finalized).WrittenBytes);
        EndRunInput end = Assert.Single(steps.Ended);
        Assert.True(end.Launch);
        Assert.Equal(JobStatus.Finished, end.Finish.Status);
    }

    [Fact]
    public async Task OneRound_OfAVersion5History_ReplaysTheStepsItRecorded()
    {
        var steps = new Steps();
        MigrationResult result = await RunOneRoundAsync(steps, version: 5);

        Assert.Equal(JobStatus.Finished, result.Status);
        Assert.Equal(
            [TaskNames.BeginExportActivity, TaskNames.AcquireSourceActivity, TaskNames.TakeWaveSlotActivity, TaskNames.PrepareRoundActivity, TaskNames.VerifyRoundActivity,
             TaskNames.AssembleSliceActivity, TaskNames.AssembleSliceActivity, TaskNames.AssembleSliceActivity, TaskNames.FinalizeImageActivity,
             TaskNames.ImageOutputsActivity, TaskNames.CleanUpRoundActivity, TaskNames.EndRunActivity],
            steps.Calls.ToArray());
        Assert.Equal(3 * Steps.SliceBytes, Assert.Single(steps.Finalized).WrittenBytes);
        EndRunInput end = Assert.Single(steps.Ended);
        Assert.True(end.Launch);
        Assert.Equal(JobStatus.Finished, end.Finish.Status);
    }

    [Fact]
    public async Task APushRefused_RunEndsInErrorWithThePushCode_WithoutATestLaunch()
    {
        var steps = new Steps { RefusePush = true };
        MigrationResult result = await RunOneRoundAsync(steps);

        Assert.Equal((JobStatus.InError, "Registry.Denied"), (result.Status, result.ErrorCode));
        Assert.DoesNotContain(TaskNames.CleanUpRoundActivity, steps.Calls); // staged data is kept for a restart
        EndRunInput end = Assert.Single(steps.Ended);
        Assert.False(end.Launch);
        Assert.Equal((JobStatus.InError, "Registry.Denied"), (end.Finish.Status, end.Finish.ErrorCode));
    }

    [Fact]
    public async Task OneRound_OfAVersion4History_ReplaysTheStepsItRecorded()
    {
        var steps = new Steps();
        MigrationResult result = await RunOneRoundAsync(steps, version: 4);

        Assert.Equal(JobStatus.Finished, result.Status);
        Assert.Equal(
            [TaskNames.BeginExportActivity, TaskNames.AcquireSourceActivity, TaskNames.TakeWaveSlotActivity, TaskNames.PrepareRoundActivity, TaskNames.VerifyRoundActivity,
             TaskNames.AssembleSliceActivity, TaskNames.AssembleSliceActivity, TaskNames.AssembleSliceActivity, TaskNames.FinalizeImageActivity,
             TaskNames.VerifyBootActivity, TaskNames.BeginExportActivity, TaskNames.PushContainerActivity, TaskNames.PurgeStagingActivity, TaskNames.EnterWaitingActivity,
             TaskNames.LaunchInstanceActivity, TaskNames.FinishRunActivity, TaskNames.ReleaseWaveSlotActivity],
            steps.Calls.ToArray());
        Assert.Equal(3 * Steps.SliceBytes, Assert.Single(steps.Finalized).WrittenBytes);
        Assert.Equal(JobStatus.Finished, Assert.Single(steps.Finished).Status);
    }

    [Fact]
    public async Task ASliceRefused_ImageDiscardedNotFinalized_RunInErrorWithTheSlicesCode()
    {
        var steps = new Steps { RefuseSlice = 1 };
        MigrationResult result = await RunOneRoundAsync(steps);

        Assert.Equal(JobStatus.InError, result.Status);
        Assert.Equal("StagingIntegrity.Tag", result.ErrorCode);
        Assert.Equal(Steps.ImageId, Assert.Single(steps.Discarded).ImageId);
        Assert.Empty(steps.Finalized);
        Assert.DoesNotContain(TaskNames.PurgeStagingActivity, steps.Calls); // staged data is kept for a restart
        FinishRunInput finish = Assert.Single(steps.Ended).Finish;
        Assert.Equal((JobStatus.InError, "StagingIntegrity.Tag"), (finish.Status, finish.ErrorCode));
    }

    [Fact]
    public async Task TheRoundNotVerified_NothingAssembled_RunInErrorWithTheVerifiersCode()
    {
        var steps = new Steps { RefuseVerify = true };
        MigrationResult result = await RunOneRoundAsync(steps);

        Assert.Equal((JobStatus.InError, "StagingIntegrity.ManifestChanged"), (result.Status, result.ErrorCode));
        Assert.DoesNotContain(TaskNames.AssembleSliceActivity, steps.Calls);
        Assert.DoesNotContain(TaskNames.DiscardImageActivity, steps.Calls);
    }

    [Fact]
    public async Task ASourceNotAvailableAtTheStart_IsWaitedForUntilItComesBack_ThenTheRoundIsIssued()
    {
        var steps = new Steps { SourceAwayTakes = 1 };
        MigrationResult result = await RunOneRoundAsync(steps, async (host, instance) =>
        {
            // The source is away, with an hour's recheck timer: only its coming back lets the round go on.
            await steps.SourceAway.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(TaskNames.PrepareRoundActivity, steps.Calls);
            await host.Client.RaiseEventAsync(instance, MigrationEvents.SourceAvailable, "back");
        });

        Assert.Equal(JobStatus.Finished, result.Status);
        Assert.Equal([TaskNames.StartRoundActivity, TaskNames.AcquireSourceActivity, TaskNames.TakeWaveSlotActivity, TaskNames.PrepareRoundActivity, TaskNames.VerifyRoundActivity],
            steps.Calls.Take(5));
    }

    [Fact]
    public async Task AWaveQueuedRound_IsIssuedOnlyOnceWokenByAFreedSlot_AndGivesItsSlotBackAtTheEnd()
    {
        var steps = new Steps { QueuedTakes = 1 };
        MigrationResult result = await RunOneRoundAsync(steps, async (host, instance) =>
        {
            // Queued, with an hour's recheck timer: only the event can let the round go on.
            await steps.Queued.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(TaskNames.PrepareRoundActivity, steps.Calls);
            await host.Client.RaiseEventAsync(instance, MigrationEvents.WaveSlotFree, "j-bbbbbbbbbbbbbbbb");
        });

        Assert.Equal(JobStatus.Finished, result.Status);
        string[] calls = [.. steps.Calls];
        Assert.Equal([TaskNames.StartRoundActivity, TaskNames.TakeWaveSlotActivity, TaskNames.PrepareRoundActivity],
            calls.Where(c => c is TaskNames.StartRoundActivity or TaskNames.TakeWaveSlotActivity or TaskNames.PrepareRoundActivity));
        Assert.Equal(TaskNames.EndRunActivity, calls[^1]); // which gives the slot back (WaveTests: the cap holds with real jobs)
    }

    /// <summary>Starts a one-shot job's orchestration, commits its round as the agent's route would, and waits for the end.</summary>
    private static async Task<MigrationResult> RunOneRoundAsync(Steps steps, Func<DurableTaskTestHost, string, Task>? beforePrepared = null, int version = MigrationInput.CurrentVersion)
    {
        await using DurableTaskTestHost host = await DurableTaskTestHost.StartAsync(steps.Register);
        string instance = await host.Client.ScheduleNewOrchestrationInstanceAsync(TaskNames.MigrateServerOrchestrator,
            new MigrationInput(JobId, RecheckSeconds: 3600) { Version = version });
        if (beforePrepared is not null)
        {
            await beforePrepared(host, instance);
        }

        await steps.Prepared.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await host.Client.RaiseEventAsync(instance, MigrationEvents.RoundCommitted, new RoundCommit(0, "sha"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        OrchestrationMetadata done = await host.Client.WaitForInstanceCompletionAsync(instance, getInputsAndOutputs: true, timeout.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        return done.ReadOutputAs<MigrationResult>()!;
    }

    /// <summary>The activities, scripted: each records its call; the round has three slices.</summary>
    private sealed class Steps
    {
        public const string ImageId = "m-aaaaaaaaaaaaaaaa";
        public const long SliceBytes = 64L << 20;

        public ConcurrentQueue<string> Calls { get; } = new();

        public ConcurrentQueue<FinalizeImageInput> Finalized { get; } = new();

        public ConcurrentQueue<DiscardImageInput> Discarded { get; } = new();

        public ConcurrentQueue<FinishRunInput> Finished { get; } = new();

        public ConcurrentQueue<EndRunInput> Ended { get; } = new();

        public bool RefusePush { get; init; }

        public TaskCompletionSource Prepared { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int? RefuseSlice { get; init; }

        public bool RefuseVerify { get; init; }

        /// <summary>Takes of a wave slot answered "queued" before one is granted.</summary>
        public int QueuedTakes { get; init; }

        public TaskCompletionSource Queued { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Tries to take the source answered "wait" before it is taken.</summary>
        public int SourceAwayTakes { get; init; }

        public TaskCompletionSource SourceAway { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int _takes, _acquires;

        public void Register(DurableTaskRegistry r)
        {
            r.AddOrchestrator<MigrateServerOrchestrator>();
            Add<ExportInput, ExportPlan>(r, TaskNames.BeginExportActivity, _ => new ExportPlan(null, [], 0, null, null));
            Add<AcquireSourceInput, AcquireSourceResult>(r, TaskNames.AcquireSourceActivity, _ => Acquire());
            Add<PrepareRoundInput, PrepareRoundResult>(r, TaskNames.PrepareRoundActivity, _ => Prepare());
            Add<PrepareRoundInput, StartRoundResult>(r, TaskNames.StartRoundActivity, _ =>
            {
                // The steps of RoundStartSteps, scripted as their own activities are.
                var pending = new ExportPlan(null, [], 0, null, null);
                AcquireSourceResult acquired = Acquire();
                if (acquired.Outcome != AcquireOutcome.Acquired)
                {
                    return new StartRoundResult(pending, acquired, null, null);
                }

                WaveSlotResult slot = TakeSlot();
                return new StartRoundResult(pending, acquired, slot, slot.Granted ? Prepare() : null);
            });
            Add<CheckSyncInput, CheckSyncResult>(r, TaskNames.CheckSyncActivity, _ => new CheckSyncResult(SyncOutcome.Continue, null, null));
            Add<VerifyRoundInput, AssemblyPlan>(r, TaskNames.VerifyRoundActivity, v => RefuseVerify
                ? new AssemblyPlan(null, [], "StagingIntegrity.ManifestChanged", "changed")
                : new AssemblyPlan(ImageId, [.. Enumerable.Range(0, 3).Select(i => new SliceInput(JobId, v.Round, v.ManifestSha256, ImageId, 0, i * 64, 64))], null, null));
            Add<SliceInput, SliceResult>(r, TaskNames.AssembleSliceActivity, s => s.FirstChunk / 64 == RefuseSlice
                ? new SliceResult(0, "StagingIntegrity.Tag", "a chunk failed its check")
                : new SliceResult(SliceBytes, null, null));
            Add<FinalizeImageInput, bool>(r, TaskNames.FinalizeImageActivity, f =>
            {
                Finalized.Enqueue(f);
                return true;
            });
            Add<VerifyBootInput, bool>(r, TaskNames.VerifyBootActivity, _ => true);
            Add<DiscardImageInput, bool>(r, TaskNames.DiscardImageActivity, d =>
            {
                Discarded.Enqueue(d);
                return true;
            });
            Add<ExportInput, ExportStepResult>(r, TaskNames.PushContainerActivity, _ => new ExportStepResult(null, null));
            Add<string, WaveSlotResult>(r, TaskNames.TakeWaveSlotActivity, _ => TakeSlot());
            Add<string, List<string>>(r, TaskNames.ReleaseWaveSlotActivity, _ => []);
            Add<string, bool>(r, TaskNames.PurgeStagingActivity, _ => true);
            Add<string, WaitingResult>(r, TaskNames.EnterWaitingActivity, _ => new WaitingResult(false, 0));
            Add<string, ExportStepResult>(r, TaskNames.LaunchInstanceActivity, _ => new ExportStepResult(null, null));
            Add<FinishRunInput, bool>(r, TaskNames.FinishRunActivity, f =>
            {
                Finished.Enqueue(f);
                return true;
            });
            Add<VerifyBootInput, ImageOutputs>(r, TaskNames.ImageOutputsActivity, _ => new ImageOutputs(new ExportPlan(null, [], 0, null, null),
                RefusePush ? new ExportStepResult("Registry.Denied", "the registry refused the push") : new ExportStepResult(null, null)));
            Add<CleanUpInput, CleanUpResult>(r, TaskNames.CleanUpRoundActivity, _ => new CleanUpResult(false, 0, []));
            Add<EndRunInput, EndRunResult>(r, TaskNames.EndRunActivity, e =>
            {
                Ended.Enqueue(e);
                return new EndRunResult(e.Finish.ErrorCode, []);
            });
        }

        private AcquireSourceResult Acquire()
        {
            if (Interlocked.Increment(ref _acquires) > SourceAwayTakes)
            {
                return new AcquireSourceResult(AcquireOutcome.Acquired, "InUse", null);
            }

            SourceAway.TrySetResult();
            return new AcquireSourceResult(AcquireOutcome.Wait, "Unavailable", null);
        }

        private WaveSlotResult TakeSlot()
        {
            if (Interlocked.Increment(ref _takes) > QueuedTakes)
            {
                return new WaveSlotResult(true);
            }

            Queued.TrySetResult();
            return new WaveSlotResult(false);
        }

        private PrepareRoundResult Prepare()
        {
            Prepared.TrySetResult();
            return new PrepareRoundResult(true, null, null, 0);
        }

        private void Add<TIn, TOut>(DurableTaskRegistry r, string name, Func<TIn, TOut> body) =>
            r.AddActivityFunc<TIn, TOut>(name, (_, input) =>
            {
                Calls.Enqueue(name);
                return body(input);
            });
    }
}
