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

        var (exit, stdout, stderr) = Agent.Run("migrate", "--server", fx.Control.Url, "--code", code, "--disk", source, "--config", config, "--image-name", "full", "--json");
        Assert.True(exit == 0, $"migrate exited {exit}\n{stdout}\n{stderr}");
        JsonNode job = JsonNode.Parse(stdout)!;
        Assert.Equal("Finished", job["status"]!.GetValue<string>());
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();

        JsonNode image = (await fx.Control.Operator().GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("Available", image["status"]!.GetValue<string>());
        string destination = fx.Box.File("full-dest.img");
        await DownloadAsync($"/api/v1/images/{imageId}/disks/0", destination);

        Assert.Equal(new FileInfo(source).Length, new FileInfo(destination).Length);
        Tool.Run("sgdisk", ["-v", destination]);
        JsonNode src = JsonNode.Parse(Tool.Run("sfdisk", ["--json", source]).Stdout)!["partitiontable"]!;
        JsonNode dst = JsonNode.Parse(Tool.Run("sfdisk", ["--json", destination]).Stdout)!["partitiontable"]!;
        Assert.Equal(src["id"]!.GetValue<string>(), dst["id"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(Strip(src["partitions"]!), Strip(dst["partitions"]!)), $"{src}\n{dst}");

        // Every partition's bytes are identical (mkfs leaves free space zero, so skipping it loses nothing).
        foreach (JsonNode? p in src["partitions"]!.AsArray())
        {
            long start = p!["start"]!.GetValue<long>() * 512, size = p["size"]!.GetValue<long>() * 512;
            Assert.True(SameBytes(source, destination, start, size), $"partition at {start} differs");
        }

        string part = fx.Box.File("full-root.part");
        JsonNode root = src["partitions"]![1]!;
        Tool.Run("dd", [$"if={destination}", $"of={part}", "bs=512", $"skip={root["start"]}", $"count={root["size"]}", "status=none"]);
        Tool.Run("e2fsck", ["-fn", part]);

        // Less was sent than the disk holds: free space and zero blocks stayed home.
        long uploaded = job["replicationJobRuns"]![0]!["uploadedBytes"]!.GetValue<long>();
        Assert.InRange(uploaded, 1, new FileInfo(source).Length / 4);
    }

    private async Task DownloadAsync(string path, string file)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, fx.Control.Url + path);
        request.Headers.Add("x-functions-key", ControlPlane.OperatorKey);
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using FileStream output = File.Create(file);
        await response.Content.CopyToAsync(output);
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

    private static bool SameBytes(string a, string b, long offset, long length)
    {
        using FileStream fa = File.OpenRead(a), fb = File.OpenRead(b);
        fa.Position = offset;
        fb.Position = offset;
        byte[] ba = new byte[1 << 20], bb = new byte[1 << 20];
        while (length > 0)
        {
            int n = (int)Math.Min(ba.Length, length);
            fa.ReadExactly(ba, 0, n);
            fb.ReadExactly(bb, 0, n);
            if (!ba.AsSpan(0, n).SequenceEqual(bb.AsSpan(0, n)))
            {
                return false;
            }

            length -= n;
        }

        return true;
    }
}
