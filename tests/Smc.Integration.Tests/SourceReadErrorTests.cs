using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// An unreadable source region, made real: the sample disk is served through a FUSE file system (Tools/eiofs.py)
/// whose reads of one 4 KiB range inside a file's data fail with EIO, as a failing disk's would.
/// </summary>
public sealed partial class SourceReadErrorTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task UnreadableRegion_JobInErrorNamingTheRegion_AgentExitsWithDiskError()
    {
        string image = SampleDisks.Gpt(fx.Box, "eio.img", dataMiB: 8);
        long bad = FirstSectorOfDataFile(image) + (2 << 20) + 4096;
        string mount = fx.Box.File("eio.mnt");
        Directory.CreateDirectory(mount);
        using var fuse = ChildProcess.Start("/usr/bin/python3", [Path.Combine(Repo.Root, "tests", "Smc.Integration.Tests", "Tools", "eiofs.py"), image, mount, $"{bad}", $"{bad + 4096}"]);
        string disk = Path.Combine(mount, "eio.img");
        try
        {
            await Poll.UntilAsync(() => File.Exists(disk) || fuse.HasExited, TimeSpan.FromSeconds(30), () => "FUSE mount did not come up: " + fuse.Output);
            Assert.True(File.Exists(disk), "FUSE mount did not come up: " + fuse.Output);

            ApiClient op = fx.Control.Operator();
            var (_, code) = await Flows.NewTokenAsync(op);
            string config = fx.Box.File("eio-agent.json");
            var (exit, stdout, stderr) = Agent.Run("migrate", "--server", fx.Control.Url, "--code", code, "--disk", disk, "--config", config, "--json", "--force");

            Assert.True(exit == 3, $"exit {exit}\n{stdout}\n{stderr}");
            Match said = Region().Match(stdout + stderr);
            Assert.True(said.Success, stdout + stderr);
            Assert.InRange(bad, long.Parse(said.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), long.Parse(said.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) - 1);

            string sourceId = JsonNode.Parse(File.ReadAllText(config))!["sourceId"]!.GetValue<string>();
            JsonNode job = (await op.GetAsync($"/api/v1/replication-jobs?sourceId={sourceId}")).Json["replicationJobs"]!.AsArray().Single()!;
            job = await op.WaitForAsync($"/api/v1/replication-jobs/{job["jobId"]}", j => j["status"]!.GetValue<string>() != "Running", TimeSpan.FromSeconds(60));
            Assert.Equal("InError", job["status"]!.GetValue<string>());
            Assert.Equal("SourceDisk.ReadError", job["errorCode"]!.GetValue<string>());
            string message = job["statusInfo"]!["errorMessage"]!.GetValue<string>();
            Assert.Contains(disk, message, StringComparison.Ordinal);
            Assert.Matches(Region(), message);

            // Nothing was made from the incomplete round, and the source is free for the next job.
            Assert.Empty((await op.GetAsync($"/api/v1/images?jobId={job["jobId"]}")).Json["images"]!.AsArray());
            JsonNode source = (await op.GetAsync($"/api/v1/source-servers/{sourceId}")).Json;
            Assert.NotEqual("InUse", source["state"]!.GetValue<string>());
        }
        finally
        {
            Tool.Run("umount", ["-l", mount], check: false);
        }
    }

    [Fact]
    public async Task FailureReport_WithAnUnknownCodeOrForAnotherRound_RefusedAndJobKeepsRunning()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 11);
        await agent.StartJobAsync();
        string path = $"/api/v1/agent/jobs/{agent.JobId}/rounds/0/failure";
        (await agent.Agent.PostAsync(path, new { errorCode = "InternalError", message = "x" })).ExpectProblem(System.Net.HttpStatusCode.BadRequest, "InvalidParameter.Failure");
        (await agent.Agent.PostAsync(path, new { errorCode = "SourceDisk.ReadError", message = "" })).ExpectProblem(System.Net.HttpStatusCode.BadRequest, "InvalidParameter.Failure");
        (await agent.Agent.PostAsync(path, new { errorCode = "SourceDisk.ReadError", message = new string('x', 1001) })).ExpectProblem(System.Net.HttpStatusCode.BadRequest, "InvalidParameter.Failure");
        (await agent.Agent.PostAsync($"/api/v1/agent/jobs/{agent.JobId}/rounds/3/failure", new { errorCode = "SourceDisk.ReadError", message = "x" }))
            .ExpectProblem(System.Net.HttpStatusCode.Conflict, "OperationDenied.Round");

        JsonNode job = (await fx.Control.Operator().GetAsync($"/api/v1/replication-jobs/{agent.JobId}")).Json;
        Assert.Equal("Running", job["status"]!.GetValue<string>());
        Assert.Null(job["errorCode"]);
    }

    /// <summary>The image offset of data.bin's first sector (its bytes are i·7 mod 256, a pattern no other file has).</summary>
    private static long FirstSectorOfDataFile(string image)
    {
        byte[] pattern = [.. Enumerable.Range(0, 512).Select(i => (byte)(i * 7))];
        using FileStream s = File.OpenRead(image);
        byte[] sector = new byte[512];
        for (long at = 0; s.Read(sector) == 512; at += 512)
        {
            if (sector.AsSpan().SequenceEqual(pattern))
            {
                return at;
            }
        }

        throw new InvalidOperationException("data.bin not found in the sample image");
    }

    [GeneratedRegex(@"bytes (\d+)–(\d+)")]
    private static partial Regex Region();
}
