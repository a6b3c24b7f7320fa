using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Smc.Core.Domain;
using Smc.Core.Ports;
using Smc.Core.Services;

namespace Smc.Storage.Azure;

public static class AzureStorageRegistration
{
    /// <summary>Registers the Azure Storage adapters of the control plane's ports.</summary>
    public static IServiceCollection AddSmcAzureStorage(this IServiceCollection services, StorageOptions options)
    {
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(new TableServiceClient(options.ConnectionString));
        services.AddSingleton(new BlobServiceClient(options.ConnectionString));
        services.AddSingleton<IRecordStore<AccessToken>>(sp => new TableRecordStore<AccessToken>(Table(sp, options, "AccessTokens")));
        AddViewed<SourceServer>(services, options, "SourceServers");
        AddViewed<ReplicationJob>(services, options, "ReplicationJobs");
        services.AddSingleton<IRecordStore<LocalImage>>(sp => new TableRecordStore<LocalImage>(Table(sp, options, "Images")));
        services.AddSingleton<IRecordStore<JobTemplate>>(sp => new TableRecordStore<JobTemplate>(Table(sp, options, "JobTemplates")));
        services.AddSingleton<IRecordStore<Wave>>(sp => new TableRecordStore<Wave>(Table(sp, options, "Waves")));
        services.AddSingleton<IRecordStore<AccessKey>>(sp => new TableRecordStore<AccessKey>(Table(sp, options, "AccessKeys")));
        services.AddSingleton<IStagingStore>(sp => new BlobStagingStore(sp.GetRequiredService<BlobServiceClient>()));
        services.AddSingleton<IImageStore>(sp => new BlobImageStore(
            sp.GetRequiredService<BlobServiceClient>(),
            sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(options.ContainerName("images"))));
        services.AddSingleton<IKeyIndex>(sp => new TableKeyIndex(Table(sp, options, "Keys")));
        services.AddSingleton<IAgentPackageStore>(sp => new BlobAgentPackageStore(
            sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(options.ContainerName("agent-packages")),
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>
    /// A record kind that the API lists and the overview read from the host's view (<see cref="RecordView{T}"/>): every
    /// service writes through the view's store, which notes each write in the view.
    /// </summary>
    private static void AddViewed<T>(IServiceCollection services, StorageOptions options, string table)
        where T : class
    {
        services.AddSingleton(sp => new RecordView<T>(
            new TableRecordStore<T>(Table(sp, options, table)), StoreJson.Copy, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => sp.GetRequiredService<RecordView<T>>().Store);
    }

    /// <summary>
    /// Creates the tables and containers if they don't exist, and gives records stored by an older version the due-time
    /// column the housekeeping sweeps query (<see cref="TableRecordStore{T}.AddMissingDueColumnsAsync"/>). Safe to run
    /// from several hosts at once.
    /// </summary>
    public static async Task EnsureCreatedAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        StorageOptions options = services.GetRequiredService<StorageOptions>();
        TableServiceClient tables = services.GetRequiredService<TableServiceClient>();
        foreach (string kind in new[] { "AccessTokens", "SourceServers", "ReplicationJobs", "Keys", "Images", "JobTemplates", "Waves", "AccessKeys" })
        {
            await StorageErrors.Guard(() => tables.CreateTableIfNotExistsAsync(options.TableName(kind), cancellationToken));
        }

        await new TableRecordStore<AccessToken>(tables.GetTableClient(options.TableName("AccessTokens"))).AddMissingDueColumnsAsync(cancellationToken);
        await new TableRecordStore<SourceServer>(tables.GetTableClient(options.TableName("SourceServers"))).AddMissingDueColumnsAsync(cancellationToken);
        await new TableRecordStore<ReplicationJob>(tables.GetTableClient(options.TableName("ReplicationJobs"))).AddMissingDueColumnsAsync(cancellationToken);

        await StorageErrors.Guard(() => services.GetRequiredService<BlobServiceClient>()
            .GetBlobContainerClient(options.ContainerName("agent-packages")).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        await StorageErrors.Guard(() => services.GetRequiredService<BlobServiceClient>()
            .GetBlobContainerClient(options.ContainerName("images")).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
    }

    private static TableClient Table(IServiceProvider sp, StorageOptions options, string kind) =>
        sp.GetRequiredService<TableServiceClient>().GetTableClient(options.TableName(kind));
}
