using System.Net;
using System.Text.Json.Nodes;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Disk files the tests compare: image downloads, partition tables as sfdisk reads them, byte ranges.</summary>
internal static class DiskFiles
{
    /// <summary>Downloads an image disk (operator route) to <paramref name="file"/>.</summary>
    public static async Task DownloadAsync(ControlPlane control, string path, string file)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(HttpMethod.Get, control.Url + path);
        request.Headers.Add("x-functions-key", ControlPlane.OperatorKey);
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using FileStream output = File.Create(file);
        await response.Content.CopyToAsync(output);
    }

    /// <summary>
    /// The partition table checks out with sfdisk --verify and, for GPT, sgdisk -v (both headers, both entry arrays,
    /// the protective MBR). Both tools exit 0 when they find problems, so their reports are read.
    /// </summary>
    public static void AssertTableValid(string img, bool gpt)
    {
        var (_, verifyOut, verifyErr) = Tool.Run("sfdisk", ["--verify", img], check: false);
        Assert.True(verifyOut.Contains("No errors detected", StringComparison.Ordinal) && !verifyOut.Contains("mismatch", StringComparison.OrdinalIgnoreCase), verifyOut + verifyErr);
        if (gpt)
        {
            var (_, sgdiskOut, sgdiskErr) = Tool.Run("sgdisk", ["-v", img], check: false);
            Assert.True(sgdiskOut.Contains("No problems found", StringComparison.Ordinal), sgdiskOut + sgdiskErr);
        }
    }

    public static JsonNode Table(string img) => JsonNode.Parse(Tool.Run("sfdisk", ["--json", img]).Stdout)!["partitiontable"]!;

    public static JsonArray Partitions(string img) => Table(img)["partitions"]!.AsArray();

    public static long Sectors(JsonNode? partition, string field) => partition![field]!.GetValue<long>();

    /// <summary>Copies one partition (as sfdisk lists it) out of a disk file.</summary>
    public static string Extract(Sandbox box, string img, JsonNode partition, string name)
    {
        string file = box.File(name);
        Tool.Run("dd", [$"if={img}", $"of={file}", "bs=512", $"skip={Sectors(partition, "start")}", $"count={Sectors(partition, "size")}", "status=none"]);
        return file;
    }

    public static byte[] Read(string file, long offset, int length)
    {
        using FileStream f = File.OpenRead(file);
        f.Position = offset;
        byte[] b = new byte[length];
        f.ReadExactly(b);
        return b;
    }

    /// <summary>True when both files hold the same bytes in [offset, offset+length).</summary>
    public static bool SameBytes(string a, string b, long offset, long length)
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

    /// <summary>Asserts that every partition of <paramref name="source"/> has the same bytes at the same place in <paramref name="destination"/>.</summary>
    public static void AssertPartitionsIdentical(string source, string destination)
    {
        foreach (JsonNode? p in Partitions(source))
        {
            long start = Sectors(p, "start") * 512, size = Sectors(p, "size") * 512;
            Assert.True(SameBytes(source, destination, start, size), $"partition at {start} differs");
        }
    }
}
