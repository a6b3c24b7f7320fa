using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.DependencyInjection;
using Smc.Core.Ports;
using Smc.Integration.Tests.Infrastructure;
using Smc.Storage.Azure;

namespace Smc.Integration.Tests;

/// <summary>
/// The page-blob image store on a real Azurite: one working disk per job written round after round, an image per round as
/// a snapshot of it, failed attempts undone, and the working disk gone with the last image.
/// </summary>
public sealed class ImageStoreTests : IAsyncLifetime
{
    private const int Size = 8 << 20, Mib = 1 << 20;
    private Azurite _azurite = null!;
    private ServiceProvider _services = null!;
    private IImageStore _store = null!;
    private BlobContainerClient _container = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        var options = new StorageOptions { ConnectionString = _azurite.ConnectionString, Prefix = "imgtest" };
        _services = new ServiceCollection().AddSmcAzureStorage(options).BuildServiceProvider();
        await AzureStorageRegistration.EnsureCreatedAsync(_services);
        _store = _services.GetRequiredService<IImageStore>();
        _container = _services.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(options.ContainerName("images"));
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _azurite.Dispose();
    }

    [Fact]
    public async Task Rounds_EachImageKeepsItsRoundAndWorkingDiskIsShared()
    {
        await _store.PrepareDiskAsync("j-1", 0, Size, null, []);
        await _store.WriteAsync("j-1", 0, 0, Fill(Mib, 1));
        await _store.WriteAsync("j-1", 0, 3 * Mib, Fill(Mib, 2));
        await _store.SealDiskAsync("j-1", 0, "m-a");

        await _store.PrepareDiskAsync("j-1", 0, Size, "m-a", [new DiskRange(3 * Mib, Mib), new DiskRange(5 * Mib, Mib)]);
        await _store.ClearAsync("j-1", 0, 3 * Mib, Mib);
        await _store.WriteAsync("j-1", 0, 5 * Mib, Fill(Mib, 3));
        await _store.SealDiskAsync("j-1", 0, "m-b");

        byte[] a = Expected((0, 1), (3, 2)), b = Expected((0, 1), (5, 3));
        Assert.Equal(a, await ReadAsync("m-a"));
        Assert.Equal(b, await ReadAsync("m-b"));
        Assert.Equal(1, (await BlobsAsync("j-1")).Count(x => x.Snapshot is null && x.Name.EndsWith(".raw", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task FailedAttempt_NextAttemptStartsFromTheBaseAgain()
    {
        await _store.PrepareDiskAsync("j-2", 0, Size, null, []);
        await _store.WriteAsync("j-2", 0, Mib, Fill(Mib, 1));
        await _store.SealDiskAsync("j-2", 0, "m-a");

        // Attempt 1 of the next round writes two ranges and dies; attempt 2 (another manifest) writes elsewhere.
        await _store.PrepareDiskAsync("j-2", 0, Size, "m-a", [new DiskRange(Mib, Mib), new DiskRange(6 * Mib, Mib)]);
        await _store.WriteAsync("j-2", 0, Mib, Fill(Mib, 9));
        await _store.WriteAsync("j-2", 0, 6 * Mib, Fill(Mib, 9));
        await _store.PrepareDiskAsync("j-2", 0, Size, "m-a", [new DiskRange(2 * Mib, Mib)]);
        await _store.WriteAsync("j-2", 0, 2 * Mib, Fill(Mib, 4));
        await _store.SealDiskAsync("j-2", 0, "m-b");

        Assert.Equal(Expected((1, 1)), await ReadAsync("m-a"));
        Assert.Equal(Expected((1, 1), (2, 4)), await ReadAsync("m-b"));
    }

    [Fact]
    public async Task BaseOlderThanWorkingDisk_WorkingDiskIsRebuiltFromIt()
    {
        await _store.PrepareDiskAsync("j-3", 0, Size, null, []);
        await _store.WriteAsync("j-3", 0, 0, Fill(Mib, 1));
        await _store.SealDiskAsync("j-3", 0, "m-a");
        await _store.PrepareDiskAsync("j-3", 0, Size, "m-a", [new DiskRange(4 * Mib, Mib)]);
        await _store.WriteAsync("j-3", 0, 4 * Mib, Fill(Mib, 2));
        await _store.SealDiskAsync("j-3", 0, "m-b");
        await _store.DeleteAsync("m-b");

        // The next round's base is m-a again: what m-b added must not leak into it.
        await _store.PrepareDiskAsync("j-3", 0, Size, "m-a", [new DiskRange(7 * Mib, Mib)]);
        await _store.WriteAsync("j-3", 0, 7 * Mib, Fill(Mib, 3));
        await _store.SealDiskAsync("j-3", 0, "m-c");

        Assert.Equal(Expected((0, 1), (7, 3)), await ReadAsync("m-c"));
        Assert.Null(await _store.OpenReadAsync("m-b", 0));
    }

    [Fact]
    public async Task SealTwice_OneSnapshot_AndWorkingDiskGoesWithTheLastImage()
    {
        await _store.PrepareDiskAsync("j-4", 0, Size, null, []);
        await _store.WriteAsync("j-4", 0, 0, Fill(Mib, 1));
        await _store.SealDiskAsync("j-4", 0, "m-a");
        await _store.SealDiskAsync("j-4", 0, "m-a");
        await _store.PrepareDiskAsync("j-4", 0, Size, "m-a", []);
        await _store.SealDiskAsync("j-4", 0, "m-b");
        Assert.Equal(2, (await BlobsAsync("j-4")).Count(x => x.Snapshot is not null));

        await _store.DeleteWorkingDisksAsync("j-4");
        Assert.Equal(Expected((0, 1)), await ReadAsync("m-b"));

        await _store.DeleteAsync("m-a");
        Assert.Equal(Expected((0, 1)), await ReadAsync("m-b"));
        await _store.DeleteAsync("m-b");
        Assert.Empty(await BlobsAsync("j-4"));
    }

    /// <summary>The job's working disks, their snapshots and state documents.</summary>
    private async Task<List<BlobItem>> BlobsAsync(string jobId)
    {
        var items = new List<BlobItem>();
        await foreach (BlobItem item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.Snapshots, $"jobs/{jobId}/", CancellationToken.None))
        {
            items.Add(item);
        }

        return items;
    }

    private async Task<byte[]> ReadAsync(string imageId)
    {
        await using Stream stream = await _store.OpenReadAsync(imageId, 0) ?? throw new InvalidOperationException($"{imageId} has no disk 0");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static byte[] Fill(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static byte[] Expected(params (int Mib, byte Value)[] pieces)
    {
        byte[] disk = new byte[Size];
        foreach ((int mib, byte value) in pieces)
        {
            disk.AsSpan(mib * Mib, Mib).Fill(value);
        }

        return disk;
    }
}
