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

    /// <summary>
    /// Longest a mounted file system of the source may stay frozen while the round's last writes are read (seconds):
    /// when the catch-up would take longer, the agent reads live once more and tries again.
    /// </summary>
    public int FreezeWindowSeconds { get; init; } = 5;

    /// <summary>Run on the source (<c>/bin/sh -c</c>) before each freeze: flush a database, pause a queue.</summary>
    public string? PreFreezeCommand { get; init; }

    /// <summary>Run on the source after each thaw (also after a failed pre-freeze hook).</summary>
    public string? PostThawCommand { get; init; }

    /// <summary>Longest a hook may run (seconds) before it counts as failed.</summary>
    public int HookTimeoutSeconds { get; init; } = 30;

    /// <summary>A failed pre-freeze hook: true takes a crash-consistent round (frozen without the hook), false fails the round.</summary>
    public bool ContinueOnHookFailure { get; init; }
}
