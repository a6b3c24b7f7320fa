using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using Smc.Integration.Tests.Infrastructure;
using Smc.Wire.Staging;

namespace Smc.Integration.Tests;

/// <summary>
/// The storage service (Azurite, on disk) goes down in the middle of an upload: killed outright under a pack that is
/// still on the wire, with agent and control plane running on; and restarted cleanly with agent and host killed too,
/// so what a new agent builds on is exactly what storage kept.
/// </summary>
public sealed partial class StorageRestartTests : IDisposable
{
    private readonly Sandbox _box = new();

    [Fact]
    public async Task Azurite_RestartedDuringUpload_JobFinishesIdentical_AcknowledgedChunksNotResent()
    {
        using Azurite azurite = await Azurite.StartAsync(_box.File("azurite-data"));
        ControlPlane first = await ControlPlane.StartAsync(azurite.ConnectionString);
        string url = first.Url;
        ApiClient op = first.Operator();
        string disk = SampleDisks.GptLarge(_box, "restart.img", randomMiB: 48);
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(first, _box, disk, new { replicationParameters = new { bandwidthLimitKBps = 4000, threads = 2, compressLevel = 0 } });
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        using (ChildProcess uploading = Agent.Start("run", "--config", config))
        {
            await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => Uploaded(j) > 0, TimeSpan.FromSeconds(90));
            uploading.Kill();
        }

        first.Dispose(); // SIGKILL
        await azurite.RestartAsync();
        using ControlPlane control = await ControlPlane.StartAsync(azurite.ConnectionString, urlOverride: url);
        op = control.Operator();
        using ChildProcess second = Agent.Start("run", "--config", config);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(240));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString() + "\n" + second.Output);

        Match resumed = Resumed().Match(second.Output);
        Assert.True(resumed.Success && int.Parse(resumed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, second.Output);

        string dest = _box.File("restart.dest");
        await DiskFiles.DownloadAsync(control, $"/api/v1/images/{job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>()}/disks/0", dest);
        DiskFiles.AssertPartitionsIdentical(disk, dest);
    }

    /// <summary>
    /// The blob service is SIGKILLed while a staging pack is half sent — held there by a relay on the wire, which also
    /// shows the request never got an answer — and comes back on the same port and data. The agent and the host run
    /// on throughout: the agent retries what failed, no command fails, no pack storage had acknowledged is sent
    /// again, the held pack is stored on a later attempt, and the image is identical.
    /// </summary>
    /// <remarks>
    /// Azurite saves its blob index every 5 s (LokiJS autosave), so a SIGKILL also loses what it acknowledged in the
    /// last seconds — real storage never does, and a test of that would test the emulator. So with every request
    /// towards storage held, the test waits until what was answered is on disk: it writes a marker blob past the relay
    /// and waits for Azurite's files to hold it, then kills. Blob storage runs alone in its own process, so the
    /// orchestrations' queues and tables are not lost with it.
    /// </remarks>
    [Fact]
    public async Task BlobServiceKilledUnderALiveUpload_AgentRidesThrough_NothingAcknowledgedResent_ImageIdentical()
    {
        using Azurite tablesAndQueues = await Azurite.StartAsync();
        using Azurite.BlobOnly blobs = await Azurite.StartBlobOnlyAsync(_box.File("blob-data"));
        using var relay = new StorageRelay(blobs.Port);
        using ControlPlane control = await ControlPlane.StartAsync(tablesAndQueues.ConnectionStringWithBlobs($"http://127.0.0.1:{relay.Port}/devstoreaccount1"));
        ApiClient op = control.Operator();
        string disk = SampleDisks.GptLarge(_box, "killed.img", randomMiB: 48);
        var (_, config, jobId) = await Flows.SourceWithJobAsync(control, _box, disk, new { replicationParameters = new { bandwidthLimitKBps = 4000, threads = 2, compressLevel = 0 } });
        string packs = $"/{StagingNames.Container(jobId)}/{StagingNames.RoundPrefix(0)}packs/";
        bool IsPackPut(StorageRelay.Exchange e) => e.Method == "PUT" && e.Path.Contains(packs, StringComparison.Ordinal);
        Task<StorageRelay.Exchange> holding = relay.HoldWhen(
            line => line.StartsWith("PUT ", StringComparison.Ordinal) && line.Contains(packs, StringComparison.Ordinal) && relay.Exchanges.Count(e => IsPackPut(e) && e.Status == 201) >= 2,
            afterBodyBytes: 256 * 1024); // a pack after two were stored

        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        using ChildProcess agent = Agent.Start("run", "--config", config);
        StorageRelay.Exchange held = await holding.WaitAsync(TimeSpan.FromSeconds(120));

        // Everything sent before the hold is answered (what is left in flight is held mid-body), and Azurite has saved it.
        await Poll.UntilAsync(() => relay.InFlight.All(e => e.BodySent < e.ContentLength), TimeSpan.FromSeconds(30), () => string.Join("\n", relay.InFlight));
        long markedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string marker = "saved-" + Guid.NewGuid().ToString("N");
        BlobContainerClient direct = new BlobServiceClient(blobs.ConnectionString).GetBlobContainerClient("smc-test-marker");
        await direct.CreateIfNotExistsAsync();
        await direct.GetBlobClient(marker).UploadAsync(BinaryData.FromString(marker));
        await Poll.UntilAsync(() => blobs.HasSaved(marker, markedAt), TimeSpan.FromSeconds(30), () => "Azurite did not save its index");

        StorageRelay.Exchange[] acknowledged = [.. relay.Exchanges.Where(e => IsPackPut(e) && e.Status is >= 200 and < 300)];
        Assert.True(held.Held && held.Status is null && held.BodySent < held.ContentLength, held.ToString());
        blobs.Kill();
        Assert.True(held.Status is null, $"the held pack was answered before the kill: {held}");
        relay.Release();

        // Down for longer than the SDK's own retries of one request (1 + 3 tries): a fifth refused try of one pack is
        // the agent's policy retrying, as it would through a real outage.
        await Poll.UntilAsync(() => relay.Exchanges.Where(e => e.Refused && IsPackPut(e)).GroupBy(e => e.Path).Any(g => g.Count() >= 5), TimeSpan.FromSeconds(60), () => string.Join("\n", relay.Exchanges.Where(e => e.Refused)));
        await blobs.StartAsync();

        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(240));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString() + "\n" + agent.Output);

        // The agent rode through: it is still running, retried the uploads that failed, and no command failed.
        Assert.False(agent.HasExited, agent.Output);
        Assert.Contains(agent.Lines, l => l.Contains(" upload of ", StringComparison.Ordinal) && l.Contains(" failed (", StringComparison.Ordinal));
        Assert.DoesNotContain(agent.Lines, l => l.Contains(" command ", StringComparison.Ordinal) && l.Contains(" failed: ", StringComparison.Ordinal));

        // On the wire: the held pack was stored by a later request, and no pack storage had acknowledged was sent again.
        StorageRelay.Exchange[] all = [.. relay.Exchanges];
        StorageRelay.Exchange[] after = all[(Array.IndexOf(all, held) + 1)..];
        Assert.Contains(after, e => e.Method == "PUT" && e.Path == held.Path && e.Status == 201);
        Assert.NotEmpty(acknowledged);
        string[] resent = [.. acknowledged.Select(a => a.Path).Where(p => after.Any(e => IsPackPut(e) && e.Path == p))];
        Assert.True(resent.Length == 0, "sent again: " + string.Join(", ", resent));

        string dest = _box.File("killed.dest");
        await DiskFiles.DownloadAsync(control, $"/api/v1/images/{job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>()}/disks/0", dest);
        DiskFiles.AssertPartitionsIdentical(disk, dest);
    }

    public void Dispose() => _box.Dispose();


    private static long Uploaded(JsonNode job) => job["disks"]?.AsArray().Sum(d => d!["uploadedBytes"]!.GetValue<long>()) ?? 0;

    [GeneratedRegex(@"resuming: (\d+) chunk")]
    private static partial Regex Resumed();
}
