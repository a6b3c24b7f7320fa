
namespace Smc.Files.Tests;

/// <summary>
/// A sample root tree captured with <see cref="TreeTar"/>, then unpacked by GNU tar (an independent reader) as root
/// with owners, modes and xattrs: every captured path comes back the same, the left-out ones don't.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TreeTarTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("smc-tree-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Capture_UnpackedByGnuTar_EqualsTheSource_ContentsModesOwnersLinksXattrs()
    {
        string root = Path.Combine(_dir, "root");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
        Directory.CreateDirectory(Path.Combine(root, "var/cache/apt"));
        Directory.CreateDirectory(Path.Combine(root, "proc/1"));
        Directory.CreateDirectory(Path.Combine(root, "srv/data"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc/hostname"), "web-01\n");
        await File.WriteAllTextAsync(Path.Combine(root, "proc/1/status"), "volatile");
        await File.WriteAllTextAsync(Path.Combine(root, "var/cache/apt/pkgcache.bin"), "cache");
        string app = Path.Combine(root, "usr/bin/app");
        await File.WriteAllTextAsync(app, "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(app, (UnixFileMode)0b111_101_101 | UnixFileMode.SetUser);
        byte[] big = new byte[100 << 20];
        new Random(7).NextBytes(big.AsSpan(0, 1 << 20));
        await File.WriteAllBytesAsync(Path.Combine(root, "srv/data/big.bin"), big);
        OciLayers.Run("ln", Path.Combine(root, "srv/data/big.bin"), Path.Combine(root, "srv/data/big-again.bin"));
        File.CreateSymbolicLink(Path.Combine(root, "usr/bin/run"), "app");
        File.CreateSymbolicLink(Path.Combine(root, "etc/absolute"), "/etc/hostname");
        OciLayers.Run("chown", "1234:2345", Path.Combine(root, "etc/hostname"));
        OciLayers.Run("chown", "-h", "42:43", Path.Combine(root, "usr/bin/run"));
        OciLayers.Run("setfattr", "-n", "user.smc.role", "-v", "frontend", Path.Combine(root, "etc/hostname"));
        OciLayers.Run("mkfifo", Path.Combine(root, "srv/pipe"));
        File.SetLastWriteTimeUtc(Path.Combine(root, "etc/hostname"), new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc));

        string tar = Path.Combine(_dir, "root.tar");
        TreeCaptureStats stats;
        await using (FileStream output = File.Create(tar))
        {
            stats = await TreeTar.WriteAsync(root, output, new TreeCaptureOptions { Exclude = ["/var/cache"] });
        }

        Assert.Equal(1, stats.HardLinks);
        Assert.Equal(2, stats.Symlinks);
        Assert.Contains(stats.Skipped, s => s.Path == "/var/cache");
        Assert.Contains(stats.Skipped, s => s.Path == "/proc/*");
        await using (FileStream again = File.OpenRead(tar))
        {
            AssertSameListing(stats.Listing, await TreeListing.ApplyLayerAsync(null, again));
        }

        string unpacked = Path.Combine(_dir, "unpacked");
        Directory.CreateDirectory(unpacked);
        OciLayers.Run("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar, "-C", unpacked);

        // Left out: the excluded tree, the volatile content (its directory stays, empty).
        Assert.False(Directory.Exists(Path.Combine(unpacked, "var/cache")));
        Assert.True(Directory.Exists(Path.Combine(unpacked, "proc")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(unpacked, "proc")));

        // Everything else is the same: type, mode, owner, size, mtime, link target, content, xattrs.
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(root, path);
            if (rel.StartsWith("var/cache", StringComparison.Ordinal) || rel.StartsWith("proc/", StringComparison.Ordinal))
            {
                continue;
            }

            string copy = Path.Combine(unpacked, rel);
            UnixStat a = UnixFile.Stat(path), b = UnixFile.Stat(copy);
            Assert.True(a.Mode == b.Mode && a.Uid == b.Uid && a.Gid == b.Gid, $"{rel}: mode/owner {Convert.ToString(a.Mode, 8)}/{a.Uid}/{a.Gid} became {Convert.ToString(b.Mode, 8)}/{b.Uid}/{b.Gid}");
            if (a.Type == UnixStat.Symlink)
            {
                Assert.Equal(new FileInfo(path).LinkTarget, new FileInfo(copy).LinkTarget);
                continue;
            }

            if (a.Type == UnixStat.Regular)
            {
                Assert.Equal(a.Size, b.Size);
                Assert.Equal(a.MtimeSeconds, b.MtimeSeconds);
                Assert.Equal(OciLayers.Hash(path), OciLayers.Hash(copy));
            }

            Assert.Equal(UnixFile.ExtendedAttributes(path).Where(x => x.Key.StartsWith("user.", StringComparison.Ordinal)).Select(x => (x.Key, Convert.ToHexString(x.Value))),
                UnixFile.ExtendedAttributes(copy).Where(x => x.Key.StartsWith("user.", StringComparison.Ordinal)).Select(x => (x.Key, Convert.ToHexString(x.Value))));
        }

        Assert.Equal("frontend"u8.ToArray(), UnixFile.ExtendedAttributes(Path.Combine(unpacked, "etc/hostname"))["user.smc.role"]);
        Assert.Equal(UnixFile.Stat(Path.Combine(unpacked, "srv/data/big.bin")).Inode, UnixFile.Stat(Path.Combine(unpacked, "srv/data/big-again.bin")).Inode);
        Assert.Equal(UnixStat.Fifo, UnixFile.Stat(Path.Combine(unpacked, "srv/pipe")).Type);
    }

    [Fact]
    public async Task IncrementalLayer_HasOnlyWhatChanged_AndTheLayersUnpackedInOrderEqualTheChangedTree()
    {
        string root = Path.Combine(_dir, "inc");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        Directory.CreateDirectory(Path.Combine(root, "var/log/old"));
        Directory.CreateDirectory(Path.Combine(root, "srv"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc/app.conf"), "port=80\n");
        await File.WriteAllTextAsync(Path.Combine(root, "etc/keep.conf"), "unchanged\n");
        await File.WriteAllTextAsync(Path.Combine(root, "var/log/old/a.log"), "a");
        await File.WriteAllTextAsync(Path.Combine(root, "var/log/app.log"), "line 1\n");
        await File.WriteAllTextAsync(Path.Combine(root, "srv/thing"), "a file that becomes a directory");
        await File.WriteAllBytesAsync(Path.Combine(root, "srv/big.bin"), new byte[20 << 20]);
        await File.WriteAllTextAsync(Path.Combine(root, "srv/renamed-from"), "moved");
        await File.WriteAllBytesAsync(Path.Combine(root, "srv/linked.bin"), new byte[8 << 20]);
        OciLayers.Run("ln", Path.Combine(root, "srv/linked.bin"), Path.Combine(root, "srv/linked-2.bin"));
        var old = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        foreach (string f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(f, old);
        }

        string layer1 = Path.Combine(_dir, "l1.tar"), layer2 = Path.Combine(_dir, "l2.tar");
        TreeCaptureStats first;
        await using (FileStream o = File.Create(layer1))
        {
            first = await TreeTar.WriteAsync(root, o, new TreeCaptureOptions());
        }

        // Between rounds: write, append, delete a file and a directory, rename, create, chmod, a file becomes a directory.
        await File.WriteAllTextAsync(Path.Combine(root, "etc/app.conf"), "port=8080\n");
        await File.AppendAllTextAsync(Path.Combine(root, "var/log/app.log"), "line 2\n");
        Directory.Delete(Path.Combine(root, "var/log/old"), recursive: true);
        File.Move(Path.Combine(root, "srv/renamed-from"), Path.Combine(root, "srv/renamed-to"));
        await File.WriteAllTextAsync(Path.Combine(root, "srv/new.txt"), "new");
        File.SetUnixFileMode(Path.Combine(root, "etc/keep.conf"), (UnixFileMode)0b110_000_000);
        File.Delete(Path.Combine(root, "srv/thing"));
        Directory.CreateDirectory(Path.Combine(root, "srv/thing"));
        await File.WriteAllTextAsync(Path.Combine(root, "srv/thing/inside"), "now a directory");
        OciLayers.Run("ln", Path.Combine(root, "srv/linked.bin"), Path.Combine(root, "srv/linked-3.bin")); // a third name of an unchanged inode

        TreeCaptureStats second;
        await using (FileStream o = File.Create(layer2))
        {
            second = await TreeTar.WriteAsync(root, o, new TreeCaptureOptions(), TreeListing.Deserialize(first.Listing.Serialize()));
        }

        Assert.True(new FileInfo(layer2).Length < 1 << 20, $"layer 2 is {new FileInfo(layer2).Length} bytes: the unchanged 20 MiB file is in it");
        List<string> names = OciLayers.Entries(layer2);
        Assert.DoesNotContain("srv/big.bin", names);
        Assert.DoesNotContain("srv/linked.bin", names); // unchanged, though hard-linked
        Assert.Contains("srv/linked-3.bin", names);
        Assert.Contains("var/log/.wh.old", names);
        Assert.DoesNotContain("var/log/old/.wh.a.log", names); // one whiteout for the removed directory
        Assert.Contains("srv/.wh.renamed-from", names);
        Assert.Contains("srv/.wh.thing", names);
        Assert.Contains("srv/thing/", names);
        Assert.Equal(3, second.Whiteouts);

        // The listing rebuilt from the layers (what the control plane gives an agent that lost its own) equals the capture's.
        TreeListing rebuilt;
        await using (FileStream l1 = File.OpenRead(layer1), l2 = File.OpenRead(layer2))
        {
            rebuilt = await TreeListing.ApplyLayerAsync(await TreeListing.ApplyLayerAsync(null, l1), l2);
        }

        AssertSameListing(second.Listing, rebuilt);

        string unpacked = Path.Combine(_dir, "layers");
        Directory.CreateDirectory(unpacked);
        OciLayers.Apply(layer1, unpacked);
        OciLayers.Apply(layer2, unpacked);
        Assert.Equal(OciLayers.Describe(root), OciLayers.Describe(unpacked));
        string Inode(string rel) => OciLayers.Run("stat", "-c", "%i", Path.Combine(unpacked, rel));
        Assert.Equal(Inode("srv/linked.bin"), Inode("srv/linked-3.bin"));
        Assert.Equal(Inode("srv/linked.bin"), Inode("srv/linked-2.bin"));
    }

    [Fact]
    public async Task Capture_IsDeterministic_AndSkipsTheFilesItIsTold()
    {
        string root = Path.Combine(_dir, "r2");
        Directory.CreateDirectory(Path.Combine(root, "b"));
        Directory.CreateDirectory(Path.Combine(root, "a"));
        await File.WriteAllTextAsync(Path.Combine(root, "b/z"), "z");
        await File.WriteAllTextAsync(Path.Combine(root, "a/y"), "y");
        await File.WriteAllTextAsync(Path.Combine(root, "smc-agent"), "the agent");
        var options = new TreeCaptureOptions { SkipFiles = [Path.Combine(root, "smc-agent")] };

        using var first = new MemoryStream();
        using var second = new MemoryStream();
        TreeCaptureStats stats = await TreeTar.WriteAsync(root, first, options);
        await TreeTar.WriteAsync(root, second, options);
        Assert.Equal(first.ToArray(), second.ToArray());
        Assert.Contains(stats.Skipped, s => s.Path == "/smc-agent");
        Assert.Equal(["a/", "a/y", "b/", "b/z"], Entries(first));
    }

    private static void AssertSameListing(TreeListing expected, TreeListing actual)
    {
        Assert.Equal(expected.Items.Keys, actual.Items.Keys);
        foreach ((string path, TreeItem item) in expected.Items)
        {
            Assert.True(item == actual.Items[path], $"{path}: captured {item}, rebuilt {actual.Items[path]}");
        }
    }

    private static List<string> Entries(MemoryStream tar)
    {
        tar.Position = 0;
        var names = new List<string>();
        using var reader = new System.Formats.Tar.TarReader(tar, leaveOpen: true);
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return names;
    }
}
