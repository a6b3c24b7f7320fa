using Microsoft.Extensions.DependencyInjection;
using Smc.Core.Domain;
using Smc.Core.Ports;
using Smc.Integration.Tests.Infrastructure;
using Smc.Storage.Azure;

namespace Smc.Integration.Tests;

/// <summary>The Table storage record store on a real Azurite: what the housekeeping sweep reads.</summary>
public sealed class RecordStoreTests
{
    [Fact]
    public async Task ListDueAsync_Jobs_ReadsOnlyUnfinishedJobsPastTheirValidTime()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ServiceProvider services = new ServiceCollection()
            .AddSmcAzureStorage(new StorageOptions { ConnectionString = azurite.ConnectionString, Prefix = "smcdue" })
            .BuildServiceProvider();
        await AzureStorageRegistration.EnsureCreatedAsync(services);
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

    private static ReplicationJob Job(string id, DateTimeOffset? validTime, string status) => new()
    {
        JobId = id,
        SourceId = "s-" + id,
        Name = id,
        ValidTime = validTime,
        Status = status,
    };

    private static async Task<List<string>> Ids(IAsyncEnumerable<Stored<ReplicationJob>> records)
    {
        var ids = new List<string>();
        await foreach (Stored<ReplicationJob> r in records)
        {
            ids.Add(r.Id);
        }

        ids.Sort(StringComparer.Ordinal);
        return ids;
    }
}
