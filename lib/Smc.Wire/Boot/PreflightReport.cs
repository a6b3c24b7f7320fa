namespace Smc.Wire.Boot;

/// <summary>
/// <c>smc-agent check</c>'s report on a source: whether it will boot on the target, and how long its full copy
/// should take. The agent posts it to the control plane (<c>POST /api/v1/agent/preflight</c>); the source shows it.
/// </summary>
public sealed class PreflightReport
{
    public List<BootCheck> Checks { get; init; } = [];

    public PreflightEstimate? Estimate { get; init; }

    /// <summary>When the agent ran the checks.</summary>
    public DateTimeOffset CheckedAt { get; init; }

    /// <summary><c>fail</c>, <c>warn</c> or <c>pass</c>: the worst of <see cref="Checks"/>.</summary>
    public string Status => BootCheck.Worst(Checks);
}

/// <summary>The full copy's size and, when an upload to staging was measured, its duration.</summary>
public sealed class PreflightEstimate
{
    /// <summary>Bytes in use on the source's disks (what a full copy reads and sends before compression).</summary>
    public long InUseBytes { get; init; }

    /// <summary>Measured upload rate to the job's staging, bytes per second; null when not measured.</summary>
    public double? UploadBytesPerSecond { get; init; }

    /// <summary>InUseBytes / UploadBytesPerSecond, rounded up; null when not measured.</summary>
    public long? FullCopySeconds { get; init; }
}
