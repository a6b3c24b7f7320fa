namespace Smc.Wire.Agent;

/// <summary>Work the control plane asks of an agent.</summary>
public sealed class AgentCommand
{
    public required string CommandId { get; init; }

    /// <summary>What to do, e.g. <c>FullCopy</c>.</summary>
    public required string Type { get; init; }

    public string? JobId { get; init; }
}
