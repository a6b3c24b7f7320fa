using Smc.Wire.Inventory;

namespace Smc.Wire.Agent;

/// <summary>
/// <c>POST /api/v1/agent/register</c>, authenticated with the activation code as bearer token.
/// Versioned with <see cref="AgentApi.Version"/>.
/// </summary>
public sealed class RegisterRequest
{
    public string? Name { get; init; }

    public required string AgentVersion { get; init; }

    /// <summary>OS family: <c>Linux</c> or <c>Windows</c>.</summary>
    public required string Platform { get; init; }

    /// <summary>Distribution or edition, e.g. <c>Debian GNU/Linux 12 (bookworm)</c>.</summary>
    public string? OsName { get; init; }

    public required string Architecture { get; init; }

    public string? KernelLevel { get; init; }

    public SystemInfo SystemInfo { get; init; } = new();

    public List<DiskInfo> Disks { get; init; } = [];
}
