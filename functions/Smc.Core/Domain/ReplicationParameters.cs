namespace Smc.Core.Domain;

/// <summary>Transfer options for the agent (product.md).</summary>
public sealed class ReplicationParameters
{
    /// <summary>Parallel upload streams (1–64); null lets the agent choose.</summary>
    public int? Threads { get; init; }

    /// <summary>0 = unlimited.</summary>
    public int BandwidthLimitKBps { get; init; }

    /// <summary>zstd level 1–22; 0 = no compression.</summary>
    public int CompressLevel { get; init; } = 1;

    public bool Checksum { get; init; } = true;
}
