namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Waiting for a condition the test can only observe (a file, a process's state, a relay's count).</summary>
internal static class Poll
{
    /// <summary>Checks <paramref name="condition"/> every 50 ms; fails with <paramref name="what"/> when time runs out.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition())
        {
            try
            {
                await Task.Delay(50, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"not within {timeout}: {what()}");
            }
        }
    }
}
