namespace Smc.Core.Ports;

/// <summary>Agent binaries the control plane serves to sources (<c>GET /api/v1/agent/download/{runtime}</c>).</summary>
public interface IAgentPackageStore
{
    Task<AgentPackageInfo> PutAsync(string runtime, Stream content, CancellationToken cancellationToken = default);

    Task<AgentPackageInfo?> GetInfoAsync(string runtime, CancellationToken cancellationToken = default);

    Task<Stream?> OpenReadAsync(string runtime, CancellationToken cancellationToken = default);
}
