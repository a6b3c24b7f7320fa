using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>A full copy end to end: smc-agent migrate → staging → assembly → a local image whose disks equal the source.</summary>
public sealed class FullCopyTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task Migrate_GptDisk_ImageHasSameTableAndIdenticalPartitions()
    {
        string source = SampleDisks.Gpt(fx.Box, "full.img");
        var (_, code) = await Flows.NewTokenAsync(fx.Control.Operator());
        string config = fx.Box.File("full-agent.json");

        var (exit, stdout, stderr) = Agent.Run("migrate", "--server", fx.Control.Url, "--code", code, "--disk", source, "--config", config, "--image-name", "full", "--json", "--force");
        Assert.True(exit == 0, $"migrate exited {exit}\n{stdout}\n{stderr}");
        JsonNode job = JsonNode.Parse(stdout)!;
        Assert.Equal("Finished", job["status"]!.GetValue<string>());
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();

        JsonNode image = (await fx.Control.Operator().GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("Available", image["status"]!.GetValue<string>());

        // Boot readiness, read by the control plane from the image's own bytes: UEFI (the disk has an ESP), and the
        // root file system's fstab names a device that changes on the target.
        JsonNode readiness = image["bootReadiness"]!;
        Assert.Equal("UEFI", readiness["bootMode"]!.GetValue<string>());
        Assert.Equal("fail", readiness["status"]!.GetValue<string>());
        JsonNode fstab = readiness["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "fstab.devices")!;
        Assert.Equal("fail", fstab["status"]!.GetValue<string>());
        Assert.Contains("/dev/sda2", fstab["message"]!.GetValue<string>(), StringComparison.Ordinal);
        // Boot tests are off unless the host names qemu (SMC_VERIFY__QEMU): recorded as not run, never guessed.
        Assert.Equal("NotRun", image["bootTest"]!["status"]!.GetValue<string>());
        Assert.Equal("NotRun", job["replicationJobRuns"]![0]!["bootTest"]!["status"]!.GetValue<string>());
        string destination = fx.Box.File("full-dest.img");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageId}/disks/0", destination);

        Assert.Equal(new FileInfo(source).Length, new FileInfo(destination).Length);
        DiskFiles.AssertTableValid(destination, gpt: true);
        JsonNode src = JsonNode.Parse(Tool.Run("sfdisk", ["--json", source]).Stdout)!["partitiontable"]!;
        JsonNode dst = JsonNode.Parse(Tool.Run("sfdisk", ["--json", destination]).Stdout)!["partitiontable"]!;
        Assert.Equal(src["id"]!.GetValue<string>(), dst["id"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(Strip(src["partitions"]!), Strip(dst["partitions"]!)), $"{src}\n{dst}");

        // Every partition's bytes are identical (mkfs leaves free space zero, so skipping it loses nothing).
        DiskFiles.AssertPartitionsIdentical(source, destination);

        string root = DiskFiles.Extract(fx.Box, destination, src["partitions"]![1]!, "full-root.part");
        Tool.Run("e2fsck", ["-fn", root]);

        // Read back from the destination's ext4 with debugfs: mode, owner, symlink target and content.
        string script = Tool.Run("debugfs", ["-R", "stat /opt/app/run.sh", root]).Stdout;
        Assert.Matches(@"Mode:\s+0750", script);
        Assert.Matches(@"User:\s+1234\s+Group:\s+5678", script);
        Assert.Matches(@"Mode:\s+0700", Tool.Run("debugfs", ["-R", "stat /opt/app", root]).Stdout);
        Assert.Contains("Fast link dest: \"../opt/app/run.sh\"", Tool.Run("debugfs", ["-R", "stat /etc/app.sh", root]).Stdout, StringComparison.Ordinal);
        Assert.Equal("#!/bin/sh\necho ok\n", Tool.Run("debugfs", ["-R", "cat /opt/app/run.sh", root]).Stdout);

        // Less was sent than the disk holds: free space and zero blocks stayed home.
        long uploaded = job["replicationJobRuns"]![0]!["uploadedBytes"]!.GetValue<long>();
        Assert.InRange(uploaded, 1, new FileInfo(source).Length / 4);
    }


    private static JsonArray Strip(JsonNode partitions)
    {
        var copy = partitions.DeepClone().AsArray();
        foreach (JsonNode? p in copy)
        {
            p!.AsObject().Remove("node");
        }

        return copy;
    }

}
