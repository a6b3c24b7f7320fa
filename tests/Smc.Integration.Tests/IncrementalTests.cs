using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// Incremental jobs: rounds after the full copy send only what changed; each round is an image equal to the source as
/// it was at that round, earlier kept images stay as they were, and retention keeps the newest.
/// The source's files are changed between rounds through a real ext4 mount of the sample image (loop device).
/// </summary>
public sealed class IncrementalTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    private const long RootStart = 34816L * 512; // SampleDisks.Gpt's ext4 root partition

    [Fact]
    public async Task Rounds_SendOnlyChanges_EachImageEqualsItsRound_RetentionKeepsNewest_StateLossRecovered()
    {
        ApiClient op = fx.Control.Operator();
        string disk = SampleDisks.Gpt(fx.Box, "inc.img", dataMiB: 16);
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, disk, new { runOnce = false, syncInterval = "PT1H", maxNumberOfImageToKeep = 2 });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        var snapshots = new List<string>();
        for (int round = 0; round < 4; round++)
        {
            if (round > 0)
            {
                ChangeFiles(disk, round);
                if (round == 3)
                {
                    // The agent's local state for the job is lost (reinstall, new disk): it must get round 2's
                    // fingerprints from the control plane.
                    foreach (string file in Directory.GetFiles(Path.Combine(Path.GetDirectoryName(config)!, "state"), $"{jobId}*"))
                    {
                        File.Delete(file);
                    }
                }

                (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
            }

            string snapshot = fx.Box.File($"inc.r{round}.img");
            File.Copy(disk, snapshot);
            snapshots.Add(snapshot);
            int expected = round;
            JsonNode waiting = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}",
                j => j["status"]!.GetValue<string>() is "InError" || (j["status"]!.GetValue<string>() == "Waiting" && Runs(j).Any(r => r["round"]!.GetValue<int>() == expected && r["endTime"] is not null)),
                TimeSpan.FromSeconds(120));
            Assert.True(waiting["status"]!.GetValue<string>() == "Waiting", waiting.ToJsonString() + "\n" + agent.Output);

            // Each round's image equals the source as it was at that round (checked now: retention removes 0 and 1 later).
            await AssertImageEqualsAsync(Runs(waiting).Single(r => r["round"]!.GetValue<int>() == expected)["imageId"]!.GetValue<string>(), snapshot, $"r{round}");
        }

        JsonNode job = (await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Json;
        List<JsonNode> runs = Runs(job);
        Assert.InRange(job["lagSeconds"]!.GetValue<double>(), 0, 600);
        Assert.All(runs, r => Assert.Equal("Manual", r["type"]!.GetValue<string>())); // every round here came from start
        // Bytes of chunks sent (before compression: the sample's data compresses to almost nothing, which would hide it).
        long Uploaded(int round) => runs.Single(r => r["round"]!.GetValue<int>() == round)["changedBytes"]!.GetValue<long>();

        // Later rounds send only what changed: far less than the full copy, and after the state loss no more than
        // twice the round before it (same size of change).
        // (On this 20 MiB sample the fixed part dominates: partition-table chunks, the ext4 journal and metadata blocks,
        // each a 1 MiB chunk; the chunk size is measured in ADR 0004 and scripts/bench.sh.)
        Assert.True(Uploaded(1) * 2 < Uploaded(0), $"round 1 sent {Uploaded(1)} bytes, round 0 {Uploaded(0)}");
        Assert.True(Uploaded(2) * 2 < Uploaded(0), $"round 2 sent {Uploaded(2)} bytes, round 0 {Uploaded(0)}");
        Assert.True(Uploaded(3) <= 2 * Uploaded(2), $"round 3 (state lost) sent {Uploaded(3)} bytes, round 2 {Uploaded(2)}");
        Assert.Contains("fetching them from the control plane", agent.Output, StringComparison.Ordinal);

        // Retention: exactly the two newest images remain, each still equal to the source as it was at its round
        // (round 2's image is read again after round 3 was made on top of it).
        JsonArray images = (await op.GetAsync($"/api/v1/images?jobId={jobId}")).Json["images"]!.AsArray();
        Assert.Equal([2, 3], images.Select(i => i!["round"]!.GetValue<int>()).Order().ToArray());
        foreach (JsonNode? image in images)
        {
            int round = image!["round"]!.GetValue<int>();
            await AssertImageEqualsAsync(image["imageId"]!.GetValue<string>(), snapshots[round], $"kept{round}");
        }
    }

    /// <summary>The image's disk downloads, its ext4 root passes e2fsck -fn, and its tree equals the snapshot's.</summary>
    private async Task AssertImageEqualsAsync(string imageId, string snapshot, string label)
    {
        string dest = fx.Box.File($"inc.dest-{label}.img");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageId}/disks/0", dest);
        string root = DiskFiles.Extract(fx.Box, dest, DiskFiles.Partitions(dest)[1]!, $"inc.root-{label}");
        var (fsck, fsckOut, fsckErr) = Tool.Run("e2fsck", ["-fn", root], check: false);
        Assert.True(fsck == 0, fsckOut + fsckErr);
        AssertSameTree(snapshot, dest);
    }

    [Fact]
    public async Task Schedule_RunsRoundsOnTheInterval_CutoverWithSyncDataFinishesWithAFinalRound()
    {
        ApiClient op = fx.Control.Operator();
        string disk = SampleDisks.Gpt(fx.Box, "sched.img");
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, disk, new { runOnce = false, syncInterval = "PT6S", maxNumberOfImageToKeep = 3 });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        // Round 0 (start), then a round the timer started.
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}",
            j => j["status"]!.GetValue<string>() == "InError" || Runs(j).Any(r => r["type"]!.GetValue<string>() == "Schedule" && r["endTime"] is not null),
            TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() != "InError", job.ToJsonString());

        // Cutover is refused unless Waiting; once Waiting, with syncData it runs one more round and finishes.
        job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() == "Waiting", TimeSpan.FromSeconds(60));
        int roundsBefore = Runs(job).Count;
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/cutover", new { syncData = true })).Expect(HttpStatusCode.Accepted);
        job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        Assert.True(Runs(job).Count > roundsBefore, job.ToJsonString());
        Assert.All(Runs(job), r => Assert.NotNull(r["endTime"]));

        // It finished with the cutover round's image: the newest run, marked final, and its image is there.
        JsonNode last = Runs(job).MaxBy(r => r["round"]!.GetValue<int>())!;
        Assert.True(last["final"]!.GetValue<bool>(), job.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await op.GetAsync($"/api/v1/images/{last["imageId"]}")).Status);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/cutover", new { syncData = false })).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.JobStatus");
    }

    [Fact]
    public async Task StartsAtOnceWhileWaiting_RunOneRound_AndRoundsNeverOverlap()
    {
        ApiClient op = fx.Control.Operator();
        string disk = SampleDisks.Gpt(fx.Box, "twice.img");
        var (_, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, disk, new { runOnce = false, syncInterval = "PT1H" });
        string path = $"/api/v1/replication-jobs/{jobId}";
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Waiting", job.ToJsonString());

        // Five operators (or a retrying script) press start at once: each is accepted or refused as not Waiting, and one
        // round runs; no request is left over to run another round after it.
        Reply[] replies = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => op.PostAsync($"{path}/start")));
        Assert.All(replies, r => Assert.True(r.Status == HttpStatusCode.Accepted || r.Body.Contains("OperationDenied.JobStatus", StringComparison.Ordinal), r.Body));
        Assert.Contains(replies, r => r.Status == HttpStatusCode.Accepted);
        job = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "InError" || (j["status"]!.GetValue<string>() == "Waiting" && Runs(j).Count == 2 && Runs(j)[1]["endTime"] is not null), TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Waiting", job.ToJsonString());

        // Still Waiting after that round (a left-over start would have begun round 2): cutover is accepted and ends it.
        (await op.PostAsync($"{path}/cutover", new { syncData = false })).Expect(HttpStatusCode.Accepted);
        job = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(60));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        List<JsonNode> runs = Runs(job);
        Assert.Equal([0, 1], runs.Select(r => r["round"]!.GetValue<int>()).ToArray());
        Assert.True(runs[1]["startTime"]!.GetValue<DateTimeOffset>() >= runs[0]["endTime"]!.GetValue<DateTimeOffset>(), job.ToJsonString());
    }

    [Fact]
    public async Task PatchSyncIntervalWhileWaiting_TheWaitUnderWayFollowsTheNewInterval()
    {
        ApiClient op = fx.Control.Operator();
        string disk = SampleDisks.Gpt(fx.Box, "patchint.img");
        var (_, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, disk, new { runOnce = false, syncInterval = "PT1H" });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Waiting", job.ToJsonString());
        DateTimeOffset next = job["nextRoundTime"]!.GetValue<DateTimeOffset>();
        Assert.InRange(next - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));

        // An hour to go; the interval becomes 8 s: the next round is due 8 s after the wait began, not an hour from now.
        JsonNode patched = (await op.PatchAsync($"/api/v1/replication-jobs/{jobId}", new { syncInterval = "PT8S" })).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(next - TimeSpan.FromHours(1) + TimeSpan.FromSeconds(8), patched["nextRoundTime"]!.GetValue<DateTimeOffset>());
        job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}",
            j => j["status"]!.GetValue<string>() == "InError" || (j["status"]!.GetValue<string>() == "Waiting" && Runs(j).Count == 2 && Runs(j)[1]["endTime"] is not null),
            TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Waiting", job.ToJsonString());
        Assert.Equal("Schedule", Runs(job)[1]["type"]!.GetValue<string>());
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/cutover", new { syncData = false })).Expect(HttpStatusCode.Accepted);
        await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() == "Finished", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task StopDuringAnIncrementalRound_StartResumesIt_WithoutResendingAndWithItsBase()
    {
        ApiClient op = fx.Control.Operator();
        string disk = SampleDisks.Gpt(fx.Box, "incstop.img", dataMiB: 16);
        var (_, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, disk,
            new { runOnce = false, syncInterval = "PT1H", replicationParameters = new { bandwidthLimitKBps = 1500, threads = 1, compressLevel = 0 } });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(120));

        // Round 1 has 12 MiB to send at 1.5 MB/s: stop it part way, then start it again.
        string mount = fx.Box.File("incstop.mnt");
        Directory.CreateDirectory(mount);
        Tool.Run("mount", ["-o", $"loop,offset={RootStart}", disk, mount]);
        try
        {
            File.WriteAllBytes(Path.Combine(mount, "big.bin"), [.. Enumerable.Range(0, 12 << 20).Select(i => (byte)((i * 31) ^ (i >> 11)))]);
        }
        finally
        {
            Tool.Run("umount", [mount]);
        }

        string snapshot = fx.Box.File("incstop.r1.img");
        File.Copy(disk, snapshot);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}",
            j => j["currentRound"]!.GetValue<int>() == 1 && j["disks"]!.AsArray().Any(d => d!["uploadedBytes"]!.GetValue<long>() > 0), TimeSpan.FromSeconds(60));

        // The running round's ETA is on the job and on the overview's row of the job, beside its lag.
        await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["etaSeconds"]?.GetValue<double>() > 0, TimeSpan.FromSeconds(30));
        JsonNode row = (await op.GetAsync("/api/v1/overview")).Expect(HttpStatusCode.OK).Json["incremental"]!.AsArray().Single(r => r!["jobId"]!.GetValue<string>() == jobId)!;
        Assert.True(row["etaSeconds"]?.GetValue<double>() > 0, row.ToJsonString());
        Assert.True(row["lagSeconds"]?.GetValue<double>() >= 0, row.ToJsonString());
        Assert.Equal(1, row["currentRound"]!.GetValue<int>());
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/stop")).Expect(HttpStatusCode.Accepted);
        await agent.WaitForLineAsync("withdrawn by the control plane", TimeSpan.FromSeconds(30));

        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}",
            j => j["status"]!.GetValue<string>() == "InError" || (j["status"]!.GetValue<string>() == "Waiting" && Runs(j).Any(r => r["round"]!.GetValue<int>() == 1 && r["endTime"] is not null)),
            TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "Waiting", job.ToJsonString());
        Assert.Equal([0, 1], Runs(job).Select(r => r["round"]!.GetValue<int>()).ToArray());
        Assert.Contains(agent.Lines, l => l.Contains($"round 1 of {jobId}", StringComparison.Ordinal) && l.Contains("resuming:", StringComparison.Ordinal));

        string dest = fx.Box.File("incstop.dest.img");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{Runs(job)[1]["imageId"]}/disks/0", dest);
        AssertSameTree(snapshot, dest);
    }

    private static List<JsonNode> Runs(JsonNode job) => [.. job["replicationJobRuns"]!.AsArray().Select(r => r!)];

    /// <summary>
    /// Round k's changes: a new file, an append (to a file created anew from round 2 on), a delete, a rename that stays
    /// (etc/hostname → etc/hostname.r{k}), and 1 MiB rewritten in the middle of data.bin.
    /// </summary>
    private void ChangeFiles(string disk, int round)
    {
        string mount = fx.Box.File($"inc.mnt{round}");
        Directory.CreateDirectory(mount);
        Tool.Run("mount", ["-o", $"loop,offset={RootStart}", disk, mount]);
        try
        {
            File.WriteAllBytes(Path.Combine(mount, $"new{round}.bin"), [.. Enumerable.Range(0, 300_000).Select(i => (byte)(i * round + 1))]);
            File.AppendAllText(Path.Combine(mount, "etc", "hostname"), $"round {round}\n");
            if (round > 1)
            {
                File.Delete(Path.Combine(mount, $"new{round - 1}.bin"));
            }

            File.Move(Path.Combine(mount, "etc", "hostname"), Path.Combine(mount, "etc", $"hostname.r{round}"));
            using (FileStream data = new(Path.Combine(mount, "data.bin"), FileMode.Open, FileAccess.Write))
            {
                data.Position = (4L + round) << 20;
                data.Write([.. Enumerable.Range(0, 1 << 20).Select(i => (byte)(i ^ round))]);
            }
        }
        finally
        {
            Tool.Run("umount", [mount]);
        }
    }

    /// <summary>The root file systems of two disks hold the same tree: contents, modes, owners, sizes, times, link targets.</summary>
    private void AssertSameTree(string expected, string actual)
    {
        string a = fx.Box.File(Path.GetFileName(expected) + ".ro"), b = fx.Box.File(Path.GetFileName(actual) + ".ro");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(b);
        Tool.Run("mount", ["-o", $"ro,noload,loop,offset={RootStart}", expected, a]);
        try
        {
            Tool.Run("mount", ["-o", $"ro,noload,loop,offset={RootStart}", actual, b]);
            try
            {
                var (diff, stdout, stderr) = Tool.Run("diff", ["-r", "--no-dereference", a, b], check: false);
                Assert.True(diff == 0, stdout + stderr);
                Assert.Equal(Listing(a), Listing(b));
            }
            finally
            {
                Tool.Run("umount", [b]);
            }
        }
        finally
        {
            Tool.Run("umount", [a]);
        }
    }

    private static string Listing(string root) =>
        string.Join('\n', Tool.Run("find", [root, "-printf", "%P %M %U %G %s %T@ %l\\n"]).Stdout.Split('\n').Order(StringComparer.Ordinal));
}
