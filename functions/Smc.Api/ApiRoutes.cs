using Smc.Api.Routes;

namespace Smc.Api;

/// <summary>
/// The one route table of the control plane. The standalone host maps it; the Functions app has one
/// trigger per entry (same name, method and route — a test compares them with functions.metadata).
/// </summary>
public static class ApiRoutes
{
    public static readonly IReadOnlyList<ApiRoute> All =
    [
        .. AccessTokenRoutes.All(),
        .. SourceServerRoutes.All(),
        .. ReplicationJobRoutes.All(),
        .. JobTemplateRoutes.All(),
        .. WaveRoutes.All(),
        .. InventoryRoutes.All(),
        .. AccessKeyRoutes.All(),
        .. BatchRoutes.All(),
        .. AgentRoutes.All(),
        .. AgentJobRoutes.All(),
        .. ImageRoutes.All(),
    ];

    public static ApiRoute ByName(string name) =>
        All.FirstOrDefault(r => r.Name == name) ?? throw new ArgumentException($"No route '{name}'.", nameof(name));
}
