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
        await DownloadAsync($"/api/v1/images/{imageId}/disks/0", sys);
        await DownloadAsync($"/api/v1/images/{imageId}/disks/1", data);

        // System disk: 1 GiB, GPT valid with its backup at the new end, root grown, swap moved behind it.
        Assert.Equal(1L << 30, new FileInfo(sys).Length);
        Tool.Run("sgdisk", ["-v", sys]);
        JsonArray src = Partitions(gpt), dst = Partitions(sys);
        Assert.Equal(Long(src[0], "start"), Long(dst[0], "start"));
        Assert.Equal(Long(src[1], "start"), Long(dst[1], "start"));
        Assert.Equal((200L << 20) / 512, Long(dst[1], "size"));
        Assert.True(Long(dst[2], "start") >= Long(dst[1], "start") + Long(dst[1], "size"));
        Assert.Equal(Long(src[2], "size"), Long(dst[2], "size"));
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(src[i]!["uuid"]!.GetValue<string>(), dst[i]!["uuid"]!.GetValue<string>()));
        Assert.Equal("SWAPSPACE2", System.Text.Encoding.ASCII.GetString(Read(sys, (Long(dst[2], "start") * 512) + 4086, 10)));

        string rootPart = Extract(sys, dst[1]!, "grow-root.ext4");
        Tool.Run("e2fsck", ["-fn", rootPart]);
        Assert.Equal("web-1\n", Tool.Run("debugfs", ["-R", "cat /etc/hostname", rootPart]).Stdout);
        Tool.Run("resize2fs", [rootPart]); // what first boot does
        Tool.Run("e2fsck", ["-fn", rootPart]);
        string header = Tool.Run("dumpe2fs", ["-h", rootPart]).Stdout;
        long blocks = long.Parse(Field(header, "Block count:")), blockSize = long.Parse(Field(header, "Block size:"));
        Assert.Equal(200L << 20, blocks * blockSize);

        // Data disk: MBR kept (signature, bootable flag, places), ext4 and NTFS intact.
        Tool.Run("sfdisk", ["--verify", data]);
        JsonArray srcData = Partitions(mbr), dstData = Partitions(data);
        Assert.Equal(Table(mbr)["id"]!.GetValue<string>(), Table(data)["id"]!.GetValue<string>());
        Assert.All(Enumerable.Range(0, 2), i =>
        {
            Assert.Equal(Long(srcData[i], "start"), Long(dstData[i], "start"));
            Assert.Equal(Long(srcData[i], "size"), Long(dstData[i], "size"));
        });
        Assert.True(dstData[0]!["bootable"]?.GetValue<bool>() ?? false);
        Tool.Run("e2fsck", ["-fn", Extract(data, dstData[0]!, "grow-data.ext4")]);
        string ntfs = Extract(data, dstData[1]!, "grow-data.ntfs");
        Assert.Equal("quarterly numbers\n", Tool.Run("ntfscat", [ntfs, "/report.txt"]).Stdout);
        Tool.Run("ntfsinfo", ["-m", ntfs]);
    }

    private static JsonNode Table(string img) => JsonNode.Parse(Tool.Run("sfdisk", ["--json", img]).Stdout)!["partitiontable"]!;

    private static JsonArray Partitions(string img) => Table(img)["partitions"]!.AsArray();

    private static long Long(JsonNode? n, string field) => n![field]!.GetValue<long>();

    private static string Field(string text, string name) =>
        text.Split('\n').First(l => l.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim();

    private string Extract(string img, JsonNode partition, string name)
    {
        string file = fx.Box.File(name);
        Tool.Run("dd", [$"if={img}", $"of={file}", "bs=512", $"skip={Long(partition, "start")}", $"count={Long(partition, "size")}", "status=none"]);
        return file;
    }

    private static byte[] Read(string file, long offset, int length)
    {
        using FileStream f = File.OpenRead(file);
        f.Position = offset;
        byte[] b = new byte[length];
        f.ReadExactly(b);
        return b;
    }

    private async Task DownloadAsync(string path, string file)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(HttpMethod.Get, fx.Control.Url + path);
        request.Headers.Add("x-functions-key", ControlPlane.OperatorKey);
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using FileStream output = File.Create(file);
        await response.Content.CopyToAsync(output);
    }
}
