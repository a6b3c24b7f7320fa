using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Smc.Core.Api;
using Smc.Core.Services;

namespace Smc.Core.Orchestration;

/// <summary>After a round's image: an incremental job becomes Waiting until its next round; a one-shot job says so.</summary>
public sealed class EnterWaitingActivity(JobSteps steps, IHostApplicationLifetime host) : TaskActivity<string, WaitingResult>
{
    public override Task<WaitingResult> RunAsync(TaskActivityContext context, string jobId) =>
        steps.EnterWaitingAsync(jobId, host.ApplicationStopping);
}

/// <summary>A Waiting job starts its next round (Running, Preparing); false if it is no longer Waiting or Running.</summary>
public sealed class BeginRoundActivity(JobSteps steps, IHostApplicationLifetime host) : TaskActivity<string, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, string jobId) =>
        steps.BeginRoundAsync(jobId, host.ApplicationStopping);
}

/// <summary>A scheduled round came due: true (and the job records since when it is held) while the job is paused.</summary>
public sealed class HoldIfPausedActivity(JobSteps steps, IHostApplicationLifetime host) : TaskActivity<string, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, string jobId) =>
        steps.HoldIfPausedAsync(jobId, host.ApplicationStopping);
}

/// <summary><paramref name="Incremental"/>: the job waits for another round, <paramref name="IntervalSeconds"/> from now.</summary>
public sealed record WaitingResult(bool Incremental, int IntervalSeconds);

/// <summary>Before a round is issued: a slot of the job's wave (granted at once outside a wave), or wait in its queue.</summary>
public sealed class TakeWaveSlotActivity(WaveService waves, IHostApplicationLifetime host) : TaskActivity<string, WaveSlotResult>
{
    public override Task<WaveSlotResult> RunAsync(TaskActivityContext context, string jobId) =>
        waves.TakeSlotAsync(jobId, host.ApplicationStopping);
}

/// <summary>A round ended: its wave slot is given back; the answer is the queued jobs to wake.</summary>
public sealed class ReleaseWaveSlotActivity(WaveService waves, IHostApplicationLifetime host) : TaskActivity<string, List<string>>
{
    public override Task<List<string>> RunAsync(TaskActivityContext context, string jobId) =>
        waves.ReleaseSlotAsync(jobId, host.ApplicationStopping);
}
