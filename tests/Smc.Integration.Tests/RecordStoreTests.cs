using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Smc.Core.Domain;
using Smc.Core.Ports;
using Smc.Integration.Tests.Infrastructure;
using Smc.Storage.Azure;

namespace Smc.Integration.Tests;

/// <summary>
/// The Table storage record store on a real Azurite: what the housekeeping sweeps read. The tests use the shared Azurite
/// (<see cref="ControlPlaneFixture"/>), each under a table prefix of its own.
/// </summary>
public sealed class RecordStoreTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task ListDueAsync_Jobs_ReadsOnlyUnfinishedJobsPastTheirValidTime()
    {
        using ServiceProvider services = await StoreAsync("smcdue");
        IRecordStore<ReplicationJob> jobs = services.GetRequiredService<IRecordStore<ReplicationJob>>();
        DateTimeOffset now = DateTimeOffset.UtcNow;
        await jobs.InsertAsync("j-due", Job("j-due", now.AddMinutes(-5), JobStatus.Running));
        await jobs.InsertAsync("j-later", Job("j-later", now.AddHours(1), JobStatus.Running));
        await jobs.InsertAsync("j-never", Job("j-never", null, JobStatus.Waiting));
        await jobs.InsertAsync("j-finished", Job("j-finished", now.AddMinutes(-5), JobStatus.Finished));
        Stored<ReplicationJob> stopped = await jobs.InsertAsync("j-stopped", Job("j-stopped", now.AddMinutes(-1), JobStatus.Stopped));

        Assert.Equal(["j-due", "j-stopped"], await Ids(jobs.ListDueAsync(now)));
        Assert.Equal(["j-due", "j-later", "j-stopped"], await Ids(jobs.ListDueAsync(now.AddHours(2))));

        // Once a job has ended it is not read again, though its validTime stays in its record.
        ReplicationJob ended = stopped.Value;
        ended.Status = JobStatus.Expired;
        await jobs.ReplaceAsync("j-stopped", ended, stopped.ETag);
        Assert.Equal(["j-due"], await Ids(jobs.ListDueAsync(now)));
        Assert.Equal(5, (await Ids(jobs.ListAsync())).Count);
        Assert.Equal(now.AddMinutes(-1).ToUnixTimeMilliseconds(), (await jobs.GetAsync("j-stopped"))!.Value.ValidTime!.Value.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task ListDueAsync_SourcesAndCodes_ReadsOnlyWhatTheSweepsChange()
    {
        using ServiceProvider services = await StoreAsync("smcsweep");
        DateTimeOffset now = DateTimeOffset.UtcNow;

        // Silent sources: heartbeats expected (Available, InUse) and the last one before the window.
        IRecordStore<SourceServer> sources = services.GetRequiredService<IRecordStore<SourceServer>>();
        await sources.InsertAsync("s-silent", Source("s-silent", SourceState.Available, now.AddMinutes(-10)));
        await sources.InsertAsync("s-silent-in-use", Source("s-silent-in-use", SourceState.InUse, now.AddMinutes(-10)));
        await sources.InsertAsync("s-heard", Source("s-heard", SourceState.Available, now.AddSeconds(-1)));
        await sources.InsertAsync("s-marked", Source("s-marked", SourceState.Unavailable, now.AddMinutes(-10)));
        await sources.InsertAsync("s-never-heard", Source("s-never-heard", SourceState.Available, null));
        Assert.Equal(["s-silent", "s-silent-in-use"], await Ids(sources.ListDueAsync(now.AddMinutes(-5))));

        // Codes whose recorded status their expiry changes: not those recorded as expired or disabled.
        IRecordStore<AccessToken> codes = services.GetRequiredService<IRecordStore<AccessToken>>();
        await codes.InsertAsync("t-expired", Code("t-expired", AccessTokenStatus.Active, now.AddMinutes(-1)));
        await codes.InsertAsync("t-used-up-expired", Code("t-used-up-expired", AccessTokenStatus.UsedUp, now.AddMinutes(-1)));
        await codes.InsertAsync("t-live", Code("t-live", AccessTokenStatus.Active, now.AddDays(1)));
        await codes.InsertAsync("t-disabled", Code("t-disabled", AccessTokenStatus.Disabled, now.AddMinutes(-1)));
        await codes.InsertAsync("t-recorded", Code("t-recorded", AccessTokenStatus.Expired, now.AddMinutes(-1)));
        Assert.Equal(["t-expired", "t-used-up-expired"], await Ids(codes.ListDueAsync(now)));
    }

    [Fact]
    public async Task RecordsStoredWithoutTheDueColumn_GetItAtStart_AndTheSweepFindsThem()
    {
        using ServiceProvider services = await StoreAsync("smcold");
        DateTimeOffset now = DateTimeOffset.UtcNow;
        IRecordStore<SourceServer> sources = services.GetRequiredService<IRecordStore<SourceServer>>();
        await sources.InsertAsync("s-old", Source("s-old", SourceState.Available, now.AddMinutes(-10)));
        await sources.InsertAsync("s-gone", Source("s-gone", SourceState.Unavailable, now.AddMinutes(-10)));

        // As a version before sources had a due time stored them: the record's JSON, no DueAt column.
        TableClient table = new TableServiceClient(fx.Storage.ConnectionString).GetTableClient("smcoldSourceServers");
        foreach (string id in new[] { "s-old", "s-gone" })
        {
            TableEntity entity = (await table.GetEntityAsync<TableEntity>("r", id)).Value;
            entity.Remove("DueAt");
            await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace);
        }

        Assert.Empty(await Ids(sources.ListDueAsync(now)));
        await table.AddEntityAsync(new TableEntity("r", "s-unreadable") { ["Data0"] = "{not json", ["Slices"] = 1 }); // doesn't stop a start

        await AzureStorageRegistration.EnsureCreatedAsync(services); // what every host does at start
        Assert.Equal(["s-old"], await Ids(sources.ListDueAsync(now)));
        Assert.False((await table.GetEntityAsync<TableEntity>("r", "s-gone")).Value.ContainsKey("DueAt")); // no due time, nothing written
        Assert.Equal(now.AddMinutes(-10).ToUnixTimeMilliseconds(), (await sources.GetAsync("s-old"))!.Value.LastHeartbeat!.Value.ToUnixTimeMilliseconds());
    }

    /// <summary>The record stores under <paramref name="prefix"/>, their tables made as a host's start makes them.</summary>
    private async Task<ServiceProvider> StoreAsync(string prefix)
    {
        ServiceProvider services = new ServiceCollection()
            .AddSmcAzureStorage(new StorageOptions { ConnectionString = fx.Storage.ConnectionString, Prefix = prefix })
            .BuildServiceProvider();
        await AzureStorageRegistration.EnsureCreatedAsync(services);
        return services;
    }

    private static SourceServer Source(string id, string state, DateTimeOffset? lastHeartbeat) => new()
    {
        SourceId = id,
        Name = id,
        State = state,
        LastHeartbeat = lastHeartbeat,
    };

    private static AccessToken Code(string id, string status, DateTimeOffset expiresAt) => new()
    {
        AccessTokenId = id,
        Name = id,
        Count = 1,
        Status = status,
        Disabled = status == AccessTokenStatus.Disabled,
        CreatedAt = expiresAt.AddDays(-1),
        ExpiresAt = expiresAt,
    };

    private static ReplicationJob Job(string id, DateTimeOffset? validTime, string status) => new()
    {
        JobId = id,
        SourceId = "s-" + id,
        Name = id,
        ValidTime = validTime,
        Status = status,
    };

    private static async Task<List<string>> Ids<T>(IAsyncEnumerable<Stored<T>> records)
        where T : class
    {
        var ids = new List<string>();
        await foreach (Stored<T> r in records)
        {
            ids.Add(r.Id);
        }

        ids.Sort(StringComparer.Ordinal);
        return ids;
    }
}
