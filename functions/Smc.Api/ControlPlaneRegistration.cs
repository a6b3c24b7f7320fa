using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Smc.Alibaba;
using Smc.Core.Images;
using Smc.Core.Options;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Core.Services;
using Smc.Registry;
using Smc.Storage.Azure;

namespace Smc.Api;

/// <summary>The one composition of the control plane, used by both hosts.</summary>
public static class ControlPlaneRegistration
{
    /// <summary>
    /// Registers services, storage adapters and the API dispatcher. Configuration keys follow
    /// <c>SMC_&lt;SECTION&gt;__&lt;KEY&gt;</c> (sections STORAGE, CONTROL, SECURITY, VERIFY, ALIBABA and REGISTRY).
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
            .Validate(o => o.OperatorKeyCacheSeconds is >= 1 and <= 300, "SMC_SECURITY__OPERATORKEYCACHESECONDS must be 1–300.")
            .Validate(o => o.JobKeySpares is >= 0 and <= 256, "SMC_SECURITY__JOBKEYSPARES must be 0–256.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MasterKey>();
        services.AddSingleton<JobKeys>();
        services.AddSingleton<CommandSignals>();
        services.AddSingleton<RunArchive>();
        services.AddSingleton<CommittedRounds>();
        services.AddSingleton<RoundIssuer>();
        services.AddSingleton<SliceAssembly>();
        services.AddSingleton<ImageRetention>();
        services.AddSingleton<ImageFinalizer>();
        services.AddOptions<VerifyOptions>()
            .Bind(configuration.GetSection("VERIFY"))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton<QemuBootTester>();
        services.AddSingleton<BootVerifier>();
        services.AddSingleton<CloudExportRecords>();
        services.AddSingleton<CloudExportCleanup>();
        services.AddSingleton<OssUploadSteps>();
        services.AddSingleton<EcsImportSteps>();
        services.AddSingleton<ContainerSteps>();

        // Provider alibaba: the account, if one is configured (else jobs asking for it are refused with what to set).
        var alibaba = new AlibabaOptions();
        configuration.GetSection("ALIBABA").Bind(alibaba);

        // ContainerImage jobs: the registry login (SMC_REGISTRY__USERNAME for every registry, else with an Alibaba key
        // temporary ACR logins for ACR registries, else anonymous) and which registries speak plain HTTP.
        var registry = new RegistryOptions();
        configuration.GetSection("REGISTRY").Bind(registry);
        services.AddSingleton<IRegistryLogins>(sp =>
        {
            var configured = new ConfiguredRegistryLogins(registry);
            return alibaba.HasKeys && string.IsNullOrEmpty(registry.Username)
                ? new AcrLogins(new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(100) }, alibaba, sp.GetRequiredService<TimeProvider>(), configured)
                : configured;
        });
        // Which registries jobs may name (and logins may go to): SMC_REGISTRY__ALLOWED and __INSECURE, and with an Alibaba
        // key the Alibaba Container Registry hosts (and their token servers).
        Func<string, bool> acrHost = host => alibaba.HasKeys && AcrRegistry.Of(host, alibaba) is not null;
        Func<string, bool> acrRealm = host => alibaba.HasKeys && AcrRegistry.IsTokenHost(host);
        var allowList = new RegistryAllowList(registry, acrHost);
        services.AddSingleton<IRegistryAllowList>(allowList);
        services.AddSingleton<IContainerRegistry>(sp => new OciRegistryPusher(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromMinutes(5) }, registry, sp.GetRequiredService<IRegistryLogins>(), allowList, acrRealm));
        if (alibaba.IsConfigured)
        {
            alibaba.Validate();
            services.AddSingleton<ICloudImages>(sp => new AlibabaCloudImages(
                new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromMinutes(5) },
                alibaba,
                sp.GetRequiredService<TimeProvider>()));
        }
        else
        {
            services.AddSingleton<ICloudImages, UnconfiguredCloudImages>();
        }

        services.AddSingleton<AgentJobService>();
        services.AddSingleton<ImageService>();
        services.AddSingleton<AccessTokenService>();
        services.AddSingleton<SourceServerService>();
        services.AddSingleton<JobTeardown>();
        services.AddSingleton<JobExpiry>();
        services.AddSingleton<ReplicationJobService>();
        services.AddSingleton<JobTemplateService>();
        services.AddSingleton<JobPauseService>();
        services.AddSingleton<WaveService>();
        services.AddSingleton<InventoryService>();
        services.AddSingleton<AccessKeyService>();
        services.AddSingleton<Smc.Alibaba.Signing.AcsRequestVerifier>();
        services.AddSingleton<Compat.SmcFacade>();
        services.AddSingleton<OverviewService>();
        services.AddSingleton<JobSteps>();
        services.AddSingleton<RoundEndSteps>();
        services.AddSingleton<RoundStartSteps>();
        services.AddSingleton<Housekeeping>();
        services.AddSingleton<IMigrationEngine, DurableMigrationEngine>();
        services.AddSingleton<ApiDispatcher>();
        return services;
    }
}
