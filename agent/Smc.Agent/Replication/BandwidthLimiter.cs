using System.Diagnostics;

namespace Smc.Agent.Replication;

/// <summary>Keeps the average upload rate under a limit (KB/s; 0 = unlimited) across all upload streams.</summary>
internal sealed class BandwidthLimiter(int limitKBps)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private double _sentBytes;

    public async Task WaitAsync(long bytes, CancellationToken cancellationToken)
    {
        if (limitKBps <= 0)
        {
            return;
        }

        TimeSpan wait;
        lock (_gate)
        {
            _sentBytes += bytes;
            double due = _sentBytes / (limitKBps * 1024.0);
            wait = TimeSpan.FromSeconds(Math.Max(0, due - _clock.Elapsed.TotalSeconds));
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }
}
