namespace Smc.Wire.Agent;

/// <summary>Work the control plane asks of an agent (delivered in heartbeat answers until done or withdrawn).</summary>
public sealed class AgentCommand
{
    /// <summary>Stable for one piece of work (<c>{jobId}-r{round}</c>), so a repeated delivery is recognised.</summary>
    public required string CommandId { get; init; }

    /// <summary>What to do: <see cref="AgentCommandTypes.Replicate"/>.</summary>
    public required string Type { get; init; }

    public string? JobId { get; init; }

    public int Round { get; init; }

    /// <summary>The committed round to compare with (send only chunks whose fingerprint changed), or null for a full round.</summary>
    public int? BaseRound { get; init; }

    /// <summary>The job's RSA public key (SubjectPublicKeyInfo, base64) that wraps each round's data key.</summary>
    public string? PublicKey { get; init; }

    public int ChunkSize { get; init; } = 1 << 20;

    /// <summary>Parallel upload streams; 0 lets the agent choose.</summary>
    public int Threads { get; init; }

    /// <summary>0 = unlimited.</summary>
    public int BandwidthLimitKBps { get; init; }

    public int CompressLevel { get; init; } = 1;

    /// <summary>Source disks (devices as registered) in destination order: index 0 is the system disk.</summary>
    public List<string> Disks { get; init; } = [];

    /// <summary>
    /// A file-level round (<see cref="TreeDevice"/>): the committed round whose listing the capture compares with (the
    /// tar then holds only new and changed paths and whiteouts for removed ones), or null for the whole tree.
    /// </summary>
    public int? LayerBase { get; init; }

    /// <summary>A file-level round: paths left out of the capture, and paths captured even on another mount.</summary>
    public List<string> ExcludePaths { get; init; } = [];

    public List<string> IncludePaths { get; init; } = [];
}
