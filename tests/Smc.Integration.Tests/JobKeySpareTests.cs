using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Smc.Core.Options;
using Smc.Core.Ports;
using Smc.Core.Security;
using Smc.Core.Services;
using Smc.Integration.Tests.Infrastructure;
using Smc.Storage.Azure;

namespace Smc.Integration.Tests;

/// <summary>
/// Spare job key pairs (issue 20: an RSA-3072 pair costs ~0.8 s of a core, and a burst of new jobs waited for them) on
/// the Table storage key index of a real Azurite: a spare goes to one job only, even when jobs race for it; a job keeps
/// its key; a taker that died is made whole.
/// </summary>
public sealed class JobKeySpareTests
{
    [Fact]
    public async Task EightJobsRaceForFourSpares_EachSpareGoesToOneJob_AndEveryJobHoldsAWorkingPairOfItsOwn()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ServiceProvider services = await ServicesAsync(azurite);
        IKeyIndex index = services.GetRequiredService<IKeyIndex>();
        JobKeys keys = services.GetRequiredService<JobKeys>();

        Assert.Equal(4, await keys.FillSparesAsync(target: 4, most: 8));
        Assert.Equal(0, await keys.FillSparesAsync(target: 4, most: 8));
        Assert.Equal(4, await keys.CountSparesAsync());
        HashSet<string> spares = [.. (await ListAsync(index, "job-key-spare")).Select(s => s.Value.Split('|')[0])];

        string[] jobs = [.. Enumerable.Range(1, 8).Select(i => $"j-race{i:00}")];
        string[] publicKeys = await Task.WhenAll(jobs.Select(j => Task.Run(() => keys.EnsurePublicKeyAsync(j))));

        Assert.Equal(8, publicKeys.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(4, publicKeys.Count(spares.Contains));
        Assert.Empty(await ListAsync(index, "job-key-spare"));
        Assert.Empty(await ListAsync(index, "job-key-spare-taken"));

        // Each job's private half opens what its public half wrapped, and no other job's does.
        byte[] dataKey = RandomNumberGenerator.GetBytes(32);
        for (int i = 0; i < jobs.Length; i++)
        {
            using var publicRsa = RSA.Create();
            publicRsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKeys[i]), out _);
            byte[] wrapped = publicRsa.Encrypt(dataKey, RSAEncryptionPadding.OaepSHA256);
            using RSA own = await keys.OpenPrivateKeyAsync(jobs[i]);
            Assert.Equal(dataKey, own.Decrypt(wrapped, RSAEncryptionPadding.OaepSHA256));
            using RSA other = await keys.OpenPrivateKeyAsync(jobs[(i + 1) % jobs.Length]);
            Assert.ThrowsAny<CryptographicException>(() => other.Decrypt(wrapped, RSAEncryptionPadding.OaepSHA256));
        }

        // A job that has its key keeps it and takes no spare.
        Assert.Equal(2, await keys.FillSparesAsync(target: 2, most: 8));
        Assert.Equal(publicKeys[0], await keys.EnsurePublicKeyAsync(jobs[0]));
        Assert.Equal(2, await keys.CountSparesAsync());
    }

    [Fact]
    public async Task ATakerThatDied_GetsItsSpareBackOnRetry_AndASpentSpareIsSweptByHousekeeping()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ServiceProvider services = await ServicesAsync(azurite);
        IKeyIndex index = services.GetRequiredService<IKeyIndex>();
        JobKeys keys = services.GetRequiredService<JobKeys>();
        Assert.Equal(2, await keys.FillSparesAsync(target: 2, most: 2));
        var spares = await ListAsync(index, "job-key-spare");

        // Died after claiming spare 0's marker, before its own key: the retry takes that spare, not a fresh one.
        Assert.Equal("j-retry", await index.ClaimAsync("job-key-spare-taken", spares[0].Key, "j-retry"));
        Assert.Equal(1, await keys.CountSparesAsync());
        Assert.Equal(spares[0].Value.Split('|')[0], await keys.EnsurePublicKeyAsync("j-retry"));
        Assert.Single(await ListAsync(index, "job-key-spare"));
        Assert.Empty(await ListAsync(index, "job-key-spare-taken"));

        // Died after its job's key was claimed (a racing call of the same job won with another pair): spare 1 is spent.
        await keys.EnsurePublicKeyAsync("j-spent");
        Assert.Empty(await ListAsync(index, "job-key-spare"));
        Assert.Equal(1, await keys.FillSparesAsync(target: 1, most: 1));
        var left = await ListAsync(index, "job-key-spare");
        Assert.Equal("j-spent", await index.ClaimAsync("job-key-spare-taken", left[0].Key, "j-spent"));
        Assert.Equal(0, await keys.CountSparesAsync());
        Assert.Equal(0, await keys.FillSparesAsync(target: 0, most: 1));
        Assert.Empty(await ListAsync(index, "job-key-spare"));
        Assert.Empty(await ListAsync(index, "job-key-spare-taken"));
    }

    [Fact]
    public async Task TheStandaloneHost_MakesItsSparesOnAThreadAtTheLowestPriority_AndTheOverviewCountsThem()
    {
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await ControlPlane.StartAsync(azurite.ConnectionString, settings: new Dictionary<string, string> { ["SMC_SECURITY__JOBKEYSPARES"] = "2" });
        ApiClient op = control.Operator();
        int spares = 0;
        for (int i = 0; i < 600 && spares < 2; i++)
        {
            spares = (await op.GetAsync("/api/v1/overview")).Expect(System.Net.HttpStatusCode.OK).Json["jobKeySpares"]!.GetValue<int>();
            if (spares < 2)
            {
                await Task.Delay(100); // polling the host's progress, not standing in for a synchronisation
            }
        }

        Assert.Equal(2, spares);

        // The maker thread, as the kernel sees it: its name and its nice value (field 19 of /proc/PID/task/TID/stat).
        var threads = Directory.GetDirectories($"/proc/{control.Process.Id}/task")
            .Select(t => (Name: File.ReadAllText(Path.Combine(t, "comm")).Trim(), Stat: File.ReadAllText(Path.Combine(t, "stat"))))
            .ToList();
        var maker = threads.Where(t => t.Name == "smc-spare-keys").ToList();
        Assert.True(maker.Count == 1, "threads: " + string.Join(", ", threads.Select(t => t.Name)));
        Assert.Equal("19", maker[0].Stat[(maker[0].Stat.LastIndexOf(')') + 2)..].Split(' ')[16]);
        Assert.All(threads.Where(t => t.Name != "smc-spare-keys"), t => Assert.Equal("0", t.Stat[(t.Stat.LastIndexOf(')') + 2)..].Split(' ')[16]));
    }

    private static async Task<ServiceProvider> ServicesAsync(Azurite azurite)
    {
        ServiceProvider services = new ServiceCollection()
            .AddSmcAzureStorage(new StorageOptions { ConnectionString = azurite.ConnectionString, Prefix = "smckeys" })
            .AddSingleton(Microsoft.Extensions.Options.Options.Create(new SecurityOptions { MasterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) }))
            .AddSingleton<MasterKey>()
            .AddSingleton<JobKeys>()
            .BuildServiceProvider();
        await AzureStorageRegistration.EnsureCreatedAsync(services);
        return services;
    }

    private static async Task<List<KeyValuePair<string, string>>> ListAsync(IKeyIndex index, string scope)
    {
        var all = new List<KeyValuePair<string, string>>();
        await foreach (KeyValuePair<string, string> entry in index.ListAsync(scope))
        {
            all.Add(entry);
        }

        return all;
    }
}
