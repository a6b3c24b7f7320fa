using System.Net;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// Local images keep the round's sealed packs (copied out of staging) and decode them when a disk is read: an image
/// outlives its job, its staging and its keys; a kept pack altered in storage is refused, never served.
/// </summary>
public sealed class LocalImageTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task Image_AfterItsJobIsDeleted_StillDownloadsEqualToTheSource()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 101);
        string imageId = await FinishedImageAsync(agent);
        (await fx.Control.Operator().DeleteAsync($"/api/v1/replication-jobs/{agent.JobId}")).Expect(HttpStatusCode.NoContent);
        Assert.False((await new BlobServiceClient(fx.Storage.ConnectionString).GetBlobContainerClient($"smcstg-{agent.JobId}").ExistsAsync()).Value);

        string dest = fx.Box.File("orphan.img");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageId}/disks/0", dest);
        Assert.Equal(agent.Disk, await File.ReadAllBytesAsync(dest));
    }

    [Fact]
    public async Task KeptPackAlteredInStorage_DownloadFailsInsteadOfServingIt()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 102);
        string imageId = await FinishedImageAsync(agent);
        BlobContainerClient images = new BlobServiceClient(fx.Storage.ConnectionString).GetBlobContainerClient("smc-images");
        BlobItem pack = Assert.Single(await ListAsync(images, $"packs/{agent.JobId}/0/"));
        byte[] bytes = (await images.GetBlobClient(pack.Name).DownloadContentAsync()).Value.Content.ToArray();
        bytes[^100] ^= 0x01; // inside the last chunk's ciphertext
        await images.GetBlobClient(pack.Name).UploadAsync(new BinaryData(bytes), overwrite: true);

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{fx.Control.Url}/api/v1/images/{imageId}/disks/0");
        request.Headers.Add("x-functions-key", ControlPlane.OperatorKey);
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            // The first chunks were already on their way when the altered one was reached: the transfer breaks off.
            await Assert.ThrowsAnyAsync<Exception>(() => response.Content.ReadAsByteArrayAsync());
        }
        else
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }
    }

    private static async Task<string> FinishedImageAsync(ProtocolAgent agent)
    {
        await agent.StartJobAsync();
        (await agent.CommitAsync(await agent.UploadRoundAsync())).Expect(HttpStatusCode.Accepted);
        JsonNode job = await agent.WaitForEndAsync();
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        return job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
    }

    internal static async Task<List<BlobItem>> ListAsync(BlobContainerClient container, string prefix)
    {
        var items = new List<BlobItem>();
        await foreach (BlobItem item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, CancellationToken.None))
        {
            items.Add(item);
        }

        return items;
    }
}
