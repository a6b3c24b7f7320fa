using Smc.Agent.Replication;
using Smc.Wire.Agent;
using Smc.Wire.Staging;

namespace Smc.Agent.Tests;

public sealed class RoundProgressTests : IDisposable
{
    private readonly TempDir _temp = new("progress");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Eta_IsUnknownUntilSomethingIsRead_ThenFollowsThisRunsRate()
    {
        // An 8 MiB GPT disk whose partition has no file system: the whole partition is planned, so 7+ MiB are to read.
        string disk = _temp.File("disk.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(8L << 20);
        }

        Tool.RunWithInput("sfdisk", "label: gpt\nstart=2048, size=14000\n", "-q", disk);
        var progress = new RoundProgress([DiskPlan.Build(0, disk, 1 << 20)], journal: null);

        // Storage down from the start: nothing read and sent after 30 s. The old estimate divided by 1 B/s (years).
        Assert.Null(progress.Snapshot(0, TimeSpan.FromSeconds(30)).EtaSeconds);

        progress.Uploaded([Chunk(1L << 20)], packBytes: 1 << 20);
        ProgressReport report = progress.Snapshot(0, TimeSpan.FromSeconds(2));
        long left = report.Disks[0].TotalBytes - report.Disks[0].ScannedBytes;
        Assert.True(left > 0);
        Assert.Equal(left / (512.0 * 1024), report.EtaSeconds!.Value, precision: 6); // 1 MiB in 2 s
    }

    private static ManifestChunk Chunk(long offset) => new()
    {
        Disk = 0,
        Offset = offset,
        Length = 1 << 20,
        Pack = "p-0",
        Position = 0,
        StoredLength = 1 << 20,
        Fingerprint = new string('b', 64),
    };
}
