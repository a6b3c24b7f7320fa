namespace Smc.Wire.Agent;

/// <summary>What the agent reports about its machine.</summary>
public sealed class SystemInfo
{
    public string? Hostname { get; init; }

    public List<string> Addresses { get; init; } = [];

    public int Cores { get; init; }

    public long MemoryBytes { get; init; }
}
