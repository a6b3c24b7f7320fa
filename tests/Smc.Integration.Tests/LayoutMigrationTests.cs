using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// Two disks, a bigger system disk with a grown partition, an MBR data disk with NTFS: the destination
/// reproduces the source scheme. A grown ext4 is left at its size by the assembler and grown at first
/// boot (cloud-init growpart/resize2fs, as on every cloud image); the test proves resize2fs can.
/// </summary>
public sealed class LayoutMigrationTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task Migrate_GrownPartitionAndMbrDataDisk_SchemeReproducedAndFilesIntact()
    {
        ApiClient op = fx.Control.Operator();
        string gpt = SampleDisks.Gpt(fx.Box, "grow-sys.img");
        string mbr = SampleDisks.MbrSmall(fx.Box, "grow-data.img", "quarterly numbers\n");
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgent(fx.Control, fx.Box, code, gpt, mbr);
        JsonNode source = (await op.GetAsync($"/api/v1/source-servers/{sourceId}")).Json;
        string root = source["disks"]![0]!["parts"]![1]!["device"]!.GetValue<string>();

        string jobId = await Flows.NewJobAsync(op, sourceId, new
        {
            systemDiskSize = 1,
            systemDiskParts = new[] { new { device = root, sizeBytes = 200L << 20, block = true } },
            dataDisks = new[] { new { index = 1, size = 1 } },
        });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString() + "\n" + agent.Output);
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        string sys = fx.Box.File("grow-sys.dest"), data = fx.Box.File("grow-data.dest");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageId}/disks/0", sys);
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{imageId}/disks/1", data);

        // System disk: 1 GiB, GPT valid with its backup at the new end, root grown, swap moved behind it.
        Assert.Equal(1L << 30, new FileInfo(sys).Length);
        DiskFiles.AssertTableValid(sys, gpt: true);
        JsonArray src = DiskFiles.Partitions(gpt), dst = DiskFiles.Partitions(sys);
        Assert.Equal(DiskFiles.Sectors(src[0], "start"), DiskFiles.Sectors(dst[0], "start"));
        Assert.Equal(DiskFiles.Sectors(src[1], "start"), DiskFiles.Sectors(dst[1], "start"));
        Assert.Equal((200L << 20) / 512, DiskFiles.Sectors(dst[1], "size"));
        Assert.True(DiskFiles.Sectors(dst[2], "start") >= DiskFiles.Sectors(dst[1], "start") + DiskFiles.Sectors(dst[1], "size"));
        Assert.Equal(DiskFiles.Sectors(src[2], "size"), DiskFiles.Sectors(dst[2], "size"));
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(src[i]!["uuid"]!.GetValue<string>(), dst[i]!["uuid"]!.GetValue<string>()));
        Assert.Equal("SWAPSPACE2", System.Text.Encoding.ASCII.GetString(DiskFiles.Read(sys, (DiskFiles.Sectors(dst[2], "start") * 512) + 4086, 10)));

        string rootPart = DiskFiles.Extract(fx.Box, sys, dst[1]!, "grow-root.ext4");
        Tool.Run("e2fsck", ["-fn", rootPart]);
        Assert.Equal("web-1\n", Tool.Run("debugfs", ["-R", "cat /etc/hostname", rootPart]).Stdout);
        Tool.Run("resize2fs", [rootPart]); // what first boot does
        Tool.Run("e2fsck", ["-fn", rootPart]);
        string header = Tool.Run("dumpe2fs", ["-h", rootPart]).Stdout;
        long blocks = long.Parse(Field(header, "Block count:")), blockSize = long.Parse(Field(header, "Block size:"));
        Assert.Equal(200L << 20, blocks * blockSize);

        // Data disk: MBR kept (signature, bootable flag, places), ext4 and NTFS intact.
        DiskFiles.AssertTableValid(data, gpt: false);
        JsonArray srcData = DiskFiles.Partitions(mbr), dstData = DiskFiles.Partitions(data);
        Assert.Equal(DiskFiles.Table(mbr)["id"]!.GetValue<string>(), DiskFiles.Table(data)["id"]!.GetValue<string>());
        Assert.All(Enumerable.Range(0, 2), i =>
        {
            Assert.Equal(DiskFiles.Sectors(srcData[i], "start"), DiskFiles.Sectors(dstData[i], "start"));
            Assert.Equal(DiskFiles.Sectors(srcData[i], "size"), DiskFiles.Sectors(dstData[i], "size"));
        });
        Assert.True(dstData[0]!["bootable"]?.GetValue<bool>() ?? false);
        Tool.Run("e2fsck", ["-fn", DiskFiles.Extract(fx.Box, data, dstData[0]!, "grow-data.ext4")]);
        string ntfs = DiskFiles.Extract(fx.Box, data, dstData[1]!, "grow-data.ntfs");
        Assert.Equal("quarterly numbers\n", Tool.Run("ntfscat", [ntfs, "/report.txt"]).Stdout);
        Tool.Run("ntfsinfo", ["-m", ntfs]);
    }

    private static string Field(string text, string name) =>
        text.Split('\n').First(l => l.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim();



}
