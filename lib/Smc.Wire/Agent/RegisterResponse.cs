namespace Smc.Wire.Agent;

public sealed class RegisterResponse
{
    public required string SourceId { get; init; }

    /// <summary>The per-source bearer credential. Shown once; the control plane keeps only its hash.</summary>
    public required string Credential { get; init; }

    public int HeartbeatRate { get; init; }
}
