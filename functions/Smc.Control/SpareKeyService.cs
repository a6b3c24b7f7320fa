using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Smc.Core.Options;
using Smc.Core.Services;

namespace Smc.Control;

/// <summary>
/// Keeps <see cref="SecurityOptions.JobKeySpares"/> spare job key pairs made ahead (<see cref="JobKeys"/>), finding
/// their primes on a thread of its own at the lowest CPU priority (nice 19, Linux), and not while jobs are taking
/// them: they are made from CPU nothing else wants. Made in the housekeeping's rhythm instead, they competed with the burst they were for — a 50-job load still
/// spent a third of the host's CPU refilling them (docs/performance.md). Written by hand: .NET's
/// <see cref="Thread.Priority"/> is ignored on Linux, so the thread sets its own nice value with <c>setpriority</c>.
/// </summary>
internal sealed partial class SpareKeyService(JobKeys jobKeys, IOptions<SecurityOptions> security, IOptions<Smc.Core.Options.ControlPlaneOptions> control,
    ILogger<SpareKeyService> logger) : IHostedService, IDisposable
{
    /// <summary>The thread's name, as <c>/proc/PID/task/TID/comm</c> shows it (15 characters at most).</summary>
    public const string ThreadName = "smc-spare-keys";

    private readonly CancellationTokenSource _stopping = new();
    private Thread? _thread;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (security.Value.JobKeySpares > 0)
        {
            _thread = new Thread(Run) { Name = ThreadName, IsBackground = true };
            _thread.Start();
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        _thread?.Join(TimeSpan.FromSeconds(5));
    }

    public void Dispose() => _stopping.Dispose();

    private void Run()
    {
        if (OperatingSystem.IsLinux() && SetPriority(0, GetThreadId(), 19) != 0)
        {
            logger.SpareKeysNotNiced(Marshal.GetLastPInvokeError());
        }

        CancellationToken stopping = _stopping.Token;
        int wantedBefore = int.MaxValue, made = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Storage calls block this thread (it has nothing else to do); the primes are found on it. While jobs
                // are taking spares (more wanted than at the last look) it makes none: the burst they are for has the
                // CPU, and the refill comes after it, one pair per look.
                int wanted = jobKeys.SparesWantedAsync(security.Value.JobKeySpares, stopping).GetAwaiter().GetResult();
                bool taking = wanted > wantedBefore;
                wantedBefore = wanted;
                if (wanted > 0 && !taking)
                {
                    using System.Security.Cryptography.RSA rsa = JobKeys.NewPair();
                    jobKeys.AddSpareAsync(rsa, stopping).GetAwaiter().GetResult();
                    wantedBefore = wanted - 1;
                    made++;
                    if (wanted == 1) // the pool is full again
                    {
                        logger.SpareKeysMade(made, security.Value.JobKeySpares);
                        made = 0;
                    }

                    continue;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.SpareKeysFailed(e.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            stopping.WaitHandle.WaitOne(control.Value.HousekeepingPeriod);
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
