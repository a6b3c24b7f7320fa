namespace Smc.Control;

/// <summary>The durable engine's tunables (configuration section <c>SMC_DURABLE__*</c>).</summary>
internal sealed class DurableOptions
{
    /// <summary>
    /// Longest wait between polls of an idle queue. DTFx's default (30 s) saves storage transactions in
    /// the cloud; 2 s keeps a laptop or CI responsive. Set higher for a large idle deployment.
    /// </summary>
    public double MaxQueuePollingSeconds { get; set; } = 2;

    /// <summary>Control-queue partitions: the unit in which several hosts share orchestrations (1–16).</summary>
    public int PartitionCount { get; set; } = 4;

    public void Validate()
    {
        if (MaxQueuePollingSeconds is < 0.1 or > 60)
        {
            throw new InvalidOperationException("SMC_DURABLE__MAXQUEUEPOLLINGSECONDS must be 0.1–60.");
        }

        if (PartitionCount is < 1 or > 16)
        {
            throw new InvalidOperationException("SMC_DURABLE__PARTITIONCOUNT must be 1–16.");
        }
    }
}
