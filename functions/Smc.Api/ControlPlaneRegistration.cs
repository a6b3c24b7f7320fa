using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Smc.Core.Options;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Core.Services;
using Smc.Storage.Azure;

namespace Smc.Api;

/// <summary>The one composition of the control plane, used by both hosts.</summary>
public static class ControlPlaneRegistration
{
    /// <summary>
    /// Registers services, storage adapters and the API dispatcher. Configuration keys follow
    /// <c>SMC_&lt;SECTION&gt;__&lt;KEY&gt;</c> (sections STORAGE and CONTROL).
    /// </summary>
    public static IServiceCollection AddSmcControlPlane(this IServiceCollection services, IConfiguration configuration)
    {
        var storage = new StorageOptions();
        configuration.GetSection("STORAGE").Bind(storage);
        services.AddSmcAzureStorage(storage);

        services.AddOptions<ControlPlaneOptions>()
            .Bind(configuration.GetSection("CONTROL"))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddOptions<SecurityOptions>()
            .Bind(configuration.GetSection("SECURITY"))
            .Validate(o => o.AllowKeyFile || !string.IsNullOrWhiteSpace(o.MasterKey),
                "SMC_SECURITY__MASTERKEY is required here (base64 of 32 bytes, the same for every instance; in Azure a Key Vault reference).")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MasterKey>();
        services.AddSingleton<JobKeys>();
        services.AddSingleton<CommandSignals>();
        services.AddSingleton<RoundSteps>();
        services.AddSingleton<AgentJobService>();
        services.AddSingleton<ImageService>();
        services.AddSingleton<AccessTokenService>();
        services.AddSingleton<SourceServerService>();
        services.AddSingleton<ReplicationJobService>();
        services.AddSingleton<OverviewService>();
        services.AddSingleton<JobSteps>();
        services.AddSingleton<Housekeeping>();
        services.AddSingleton<IMigrationEngine, DurableMigrationEngine>();
        services.AddSingleton<ApiDispatcher>();
        return services;
    }
}
