using Smc.Agent.Replication;

namespace Smc.Agent.Tests;

public sealed class BandwidthLimiterTests
{
    [Fact]
    public async Task ALiftedLimit_ReleasesAnUploadAlreadyWaiting()
    {
        var limiter = new BandwidthLimiter(1); // 1 KB/s: a 1 MiB pack would wait ~17 minutes
        Task waiting = limiter.WaitAsync(1 << 20, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        Assert.True(limiter.SetLimit(0));
        await waiting.WaitAsync(TimeSpan.FromSeconds(30)); // bounds a hang; it completes within one 200 ms recheck
        Assert.Equal(0, limiter.LimitKBps);
        Assert.False(limiter.SetLimit(0)); // the same limit again changes nothing
    }

    [Fact]
    public async Task ALoweredLimit_HoldsTheNextUpload_ARaisedOneCountsFromNow()
    {
        var limiter = new BandwidthLimiter(0);
        await limiter.WaitAsync(64 << 20, CancellationToken.None); // unlimited: no wait at all

        Assert.True(limiter.SetLimit(1));
        using var cancel = new CancellationTokenSource();
        Task held = limiter.WaitAsync(1 << 20, cancel.Token);
        Assert.False(held.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);

        Assert.True(limiter.SetLimit(1 << 20)); // 1 GB/s from now: what was sent under the old limit no longer counts
        await limiter.WaitAsync(1 << 20, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(limiter.SetLimit(-1));
    }
}
