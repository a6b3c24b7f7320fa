using System.Diagnostics;

namespace Smc.Agent.Replication;

/// <summary>
/// Keeps the average upload rate under a limit (KB/s; 0 = unlimited) across all upload streams. The limit can change
/// while a round runs (the control plane's answer to each progress report): the new rate counts from that moment, and
/// uploads already waiting re-check every 200 ms, so lifting a limit takes effect at once.
/// </summary>
internal sealed class BandwidthLimiter(int limitKBps)
{
    private static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(200);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private double _sentBytes;
    private int _limitKBps = limitKBps;

    public int LimitKBps
    {
        get
        {
            lock (_gate)
            {
                return _limitKBps;
            }
        }
    }

    /// <summary>Applies a new limit; true when it differs from the one in force.</summary>
    public bool SetLimit(int limitKBps)
    {
        lock (_gate)
        {
            if (limitKBps == _limitKBps || limitKBps < 0)
            {
                return false;
            }

            _limitKBps = limitKBps;
            _sentBytes = 0;
            _clock.Restart();
            return true;
        }
    }

    public async Task WaitAsync(long bytes, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _sentBytes += bytes;
        }

        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                if (_limitKBps <= 0)
                {
                    return;
                }

                double due = _sentBytes / (_limitKBps * 1024.0);
                wait = TimeSpan.FromSeconds(Math.Max(0, due - _clock.Elapsed.TotalSeconds));
            }

            if (wait <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(wait < Recheck ? wait : Recheck, cancellationToken);
        }
    }
}
