using Smc.Agent.Platform;

namespace Smc.Agent.Tests;

/// <summary>
/// Found disks that can't be read (gone, not a disk, a directory) are reported and set aside; the others are still
/// inspected — `inspect` and `register` used to fail entirely on the first one. A disk the operator named still fails.
/// </summary>
public sealed class DiskDiscoveryTests : IDisposable
{
    private readonly TempDir _temp = new("discovery");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void FoundDisks_TheUnreadableAreSkippedWithWhy_TheReadableAreInspected()
    {
        string good = _temp.File("good.img");
        using (FileStream f = File.Create(good))
        {
            f.SetLength(8L << 20);
        }

        Tool.RunWithInput("sfdisk", "label: gpt\nstart=2048, size=8000\n", "-q", good);
        string gone = _temp.File("gone.img"), directory = _temp.File("a-directory");
        Directory.CreateDirectory(directory);

        (List<Smc.Wire.Inventory.DiskInfo> disks, List<SkippedDisk> skipped) = DiskDiscovery.InspectAll([gone, good, directory]);

        Assert.Equal([good], disks.Select(d => d.Device));
        Assert.Equal("gpt", disks[0].PartitionTable);
        Assert.Equal([gone, directory], skipped.Select(s => s.Path));
        Assert.All(skipped, s => Assert.StartsWith(s.Path + ":", s.Reason, StringComparison.Ordinal));
        Assert.All(skipped, s => Assert.NotEqual(ExitCodes.Ok, s.ExitCode));

        // Named with --disk, an unreadable disk is still an error (a typo must not register a source without it).
        AgentException e = Assert.Throws<AgentException>(() => DiskDiscovery.InspectDiscovered([good, gone]));
        Assert.Equal(ExitCodes.DiskError, e.ExitCode);
    }
}
