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

    /// <summary>
    /// How long a queue message taken by a host stays invisible to the others. A host that crashes holds its
    /// taken (and prefetched) messages this long, so it bounds how soon another host resumes that work;
    /// live hosts renew it while they work. DTFx's default is 5 minutes; 60 s recovers faster.
    /// </summary>
    public int MessageVisibilitySeconds { get; set; } = 60;

    /// <summary>
    /// How long a host's lease on a control-queue partition lasts without renewal (renewed and sought every third of
    /// it). A host that crashes keeps its partitions this long: it bounds how soon another host resumes the
    /// orchestrations there. Durable Task's default, 30 s, is kept; a shorter lease costs more lease writes.
    /// </summary>
    public int LeaseSeconds { get; set; } = 30;

    public void Validate()
    {
        if (MessageVisibilitySeconds is < 10 or > 600)
        {
            throw new InvalidOperationException("SMC_DURABLE__MESSAGEVISIBILITYSECONDS must be 10–600.");
        }

        if (LeaseSeconds is < 3 or > 300)
        {
            throw new InvalidOperationException("SMC_DURABLE__LEASESECONDS must be 3–300.");
        }

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
