using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Smc.Integration.Tests.Infrastructure;
using Smc.Wire.Staging;

namespace Smc.Integration.Tests;

/// <summary>
/// Kill the agent (SIGKILL) at several points of an upload; each restart resumes from its journal, nothing acknowledged
/// is sent again — counted on the storage side: no pack blob is rewritten and the image is made of every acknowledged
/// pack — and the image is identical.
/// </summary>
public sealed partial class AgentCrashTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task Agent_KilledRepeatedlyDuringUpload_ResumesAndImageIdentical()
    {
        ApiClient op = fx.Control.Operator();
        string disk = SampleDisks.Gpt(fx.Box, "crash.img", dataMiB: 32);
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, disk, new { replicationParameters = new { bandwidthLimitKBps = 2500, threads = 2, compressLevel = 0 } });
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        var random = new Random(20261128);
        var resumedFrom = new List<int>();
        string journal = Path.Combine(Path.GetDirectoryName(config)!, "state", $"{jobId}-r0.journal");
        BlobContainerClient staging = new BlobServiceClient(fx.Storage.ConnectionString).GetBlobContainerClient(StagingNames.Container(jobId));
        var acknowledged = new HashSet<string>(StringComparer.Ordinal);
        var stored = new Dictionary<string, ETag>(StringComparer.Ordinal);
        for (int kill = 0; kill < 3; kill++)
        {
            using ChildProcess agent = Agent.Start("run", "--config", config);
            await agent.WaitForLineAsync("command ", TimeSpan.FromSeconds(60));
            long before = Uploaded(await op.GetAsync($"/api/v1/replication-jobs/{jobId}"));
            // Let it upload for a while (a random share of a pack or two), then kill it without warning.
            await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => Uploaded(j) > before || j["businessStatus"]?.GetValue<string>() != "Syncing", TimeSpan.FromSeconds(60));
            await Task.Delay(random.Next(100, 1500));
            agent.Kill();
            Match m = Resumed().Match(agent.Output);
            resumedFrom.Add(m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0);

            // What the dead agent had acknowledged (its journal), and the pack blobs staging holds now: a pack stored
            // before must not be written again by a later run (same ETag at the next look).
            acknowledged.UnionWith(JournalPacks(journal));
            await foreach (BlobItem blob in staging.GetBlobsAsync(BlobTraits.None, BlobStates.None, StagingNames.RoundPrefix(0) + "packs/", CancellationToken.None))
            {
                if (stored.TryGetValue(blob.Name, out ETag earlier))
                {
                    Assert.True(earlier == blob.Properties.ETag, $"{blob.Name} was written again after a restart");
                }

                stored[blob.Name] = blob.Properties.ETag!.Value;
            }
        }

        Assert.NotEmpty(acknowledged);

        using ChildProcess last = Agent.Start("run", "--config", config);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString() + "\n" + last.Output);

        // Each restart began from what the previous runs had acknowledged, never from scratch.
        Match final = Resumed().Match(last.Output);
        Assert.True(final.Success, last.Output);
        resumedFrom.Add(int.Parse(final.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(resumedFrom.Skip(1).All(n => n > 0), string.Join(", ", resumedFrom));
        Assert.True(resumedFrom.Zip(resumedFrom.Skip(1)).All(p => p.Second >= p.First), string.Join(", ", resumedFrom));

        // Not re-sent, as the storage shows it: the image is made of the packs its manifest named, and every pack a
        // killed agent had acknowledged is among them — a chunk sent again would sit in a later pack, and the earlier
        // pack would be left out.
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        BlobContainerClient images = new BlobServiceClient(fx.Storage.ConnectionString).GetBlobContainerClient("smc-images");
        JsonNode map = JsonNode.Parse((await images.GetBlobClient($"{imageId}/disk0.map.json").DownloadContentAsync()).Value.Content.ToString())!;
        HashSet<string> imagePacks = [.. map["extents"]!.AsArray().Select(e => e!["p"]!.GetValue<string>())];
        Assert.Empty(acknowledged.Except(imagePacks));

        // The image's partitions equal the source's byte for byte.
        string dest = fx.Box.File("crash.dest");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageId}/disks/0", dest);
        DiskFiles.AssertPartitionsIdentical(disk, dest);
    }

    /// <summary>The packs a round journal records as acknowledged (its <c>chunks</c> lines; a torn last line is skipped).</summary>
    private static IEnumerable<string> JournalPacks(string path)
    {
        if (!File.Exists(path))
        {
            yield break;
        }

        foreach (string line in File.ReadAllLines(path))
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (System.Text.Json.JsonException)
            {
                continue;
            }

            foreach (JsonNode? chunk in node?["chunks"]?.AsArray() ?? [])
            {
                if (chunk?["pack"]?.GetValue<string>() is { } pack)
                {
                    yield return pack;
                }
            }
        }
    }

    private static long Uploaded(JsonNode job) => job["disks"]!.AsArray().Sum(d => d!["uploadedBytes"]!.GetValue<long>());

    private static long Uploaded(Reply reply) => Uploaded(reply.Json);


    [GeneratedRegex(@"resuming: (\d+) chunk")]
    private static partial Regex Resumed();
}
