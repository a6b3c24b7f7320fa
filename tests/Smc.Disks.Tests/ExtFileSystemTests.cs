using System.Text;
using Smc.Disks.Tests.Support;

namespace Smc.Disks.Tests;

/// <summary>
/// Trees made into file systems by the real <c>mkfs.ext4 -d</c> / <c>mkfs.ext2 -d</c>, read back with
/// <see cref="ExtFileSystem"/> and compared with the tree on this machine's own file system: every file's bytes, every
/// directory's names, every link's target, paths through links.
/// </summary>
public sealed class ExtFileSystemTests : IClassFixture<ExtFileSystemTests.Trees>
{
    private readonly Trees _trees;

    public ExtFileSystemTests(Trees trees) => _trees = trees;

    [Theory]
    [InlineData("ext4")]
    [InlineData("ext4-inline")]
    [InlineData("ext2-1k")]
    public void EveryFileDirectoryAndLink_ReadsAsTheTreeItWasMadeFrom(string kind)
    {
        using DiskReader reader = DiskReader.Open(_trees.Image(kind));
        ExtFileSystem fs = ExtFileSystem.Open(reader, 0, reader.Length);
        int files = 0, links = 0, directories = 0;
        foreach (string path in Entries(_trees.Source))
        {
            string inFs = "/" + Path.GetRelativePath(_trees.Source, path);
            ExtInode inode = fs.Lookup(inFs, followLast: false) ?? throw new Xunit.Sdk.XunitException($"{kind}: {inFs} not found");
            var info = new FileInfo(path);
            if (info.LinkTarget is { } target)
            {
                Assert.True(inode.IsSymlink, inFs);
                Assert.Equal(target, fs.ReadLink(inode));
                links++;
            }
            else if (Directory.Exists(path))
            {
                Assert.True(inode.IsDirectory, inFs);
                Assert.Equal(
                    Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).Order(StringComparer.Ordinal),
                    fs.ReadDirectory(inode).Select(e => e.Name).Order(StringComparer.Ordinal));
                directories++;
            }
            else
            {
                Assert.True(inode.IsRegular, inFs);
                Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(fs.ReadFile(inode, 64L << 20)), $"{kind}: {inFs} differs");
                files++;
            }
        }

        Assert.True(files > 2000 && links >= 4 && directories > 30, $"{files} files, {links} links, {directories} directories");
    }

    [Fact]
    public void ASparseFileOfManyExtents_NeedsAnExtentIndex_AndReadsWhole()
    {
        using DiskReader reader = DiskReader.Open(_trees.Image("ext4"));
        ExtFileSystem fs = ExtFileSystem.Open(reader, 0, reader.Length);
        ExtInode sparse = fs.Lookup("/sparse.bin")!;
        // More extents than the inode's four: the tree has index nodes (depth ≥ 1), which debugfs confirms.
        string[] extents = Tool.Run("debugfs", "-R", "ex /sparse.bin", _trees.Image("ext4")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Level Entries", extents[0].Trim(), StringComparison.Ordinal);
        int depth = int.Parse(extents[1].Split('/')[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(depth >= 1, string.Join('\n', extents.Take(5)));
        Assert.True(extents.Length > 600, $"{extents.Length} lines of extents");
        Assert.Equal(File.ReadAllBytes(Path.Combine(_trees.Source, "sparse.bin")), fs.ReadFile(sparse, 64L << 20));
    }

    [Fact]
    public void Paths_ThroughRelativeAbsoluteAndChainedLinks_ResolveInsideTheImage()
    {
        using DiskReader reader = DiskReader.Open(_trees.Image("ext4"));
        ExtFileSystem fs = ExtFileSystem.Open(reader, 0, reader.Length);
        byte[] hello = File.ReadAllBytes(Path.Combine(_trees.Source, "etc/hello.conf"));
        Assert.Equal(hello, fs.ReadFile(fs.Lookup("/links/relative")!, 4096));
        Assert.Equal(hello, fs.ReadFile(fs.Lookup("/links/absolute")!, 4096)); // "/etc/hello.conf" of the image, not of this host
        Assert.Equal(hello, fs.ReadFile(fs.Lookup("/links/chain")!, 4096));
        Assert.Equal(hello, fs.ReadFile(fs.Lookup("/links/dir/hello.conf")!, 4096));
        Assert.Equal(hello, fs.ReadFile(fs.Lookup("/deep/../etc/./hello.conf")!, 4096));
        Assert.Null(fs.Lookup("/links/dangling"));
        Assert.Null(fs.Lookup("/etc/hello.conf/below"));
        Assert.Null(fs.Lookup("/no/such/path"));
        DiskFormatException loop = Assert.Throws<DiskFormatException>(() => fs.Lookup("/links/loop"));
        Assert.Equal(DiskErrorCodes.CorruptFileSystem, loop.Code);
        Assert.Equal(fs.Uuid, Tool.Run("blkid", "-o", "value", "-s", "UUID", _trees.Image("ext4")).Trim());
    }

    [Fact]
    public void AFileLargerThanTheCallerReads_RefusedBeforeAllocating()
    {
        using DiskReader reader = DiskReader.Open(_trees.Image("ext4"));
        ExtFileSystem fs = ExtFileSystem.Open(reader, 0, reader.Length);
        DiskFormatException e = Assert.Throws<DiskFormatException>(() => fs.ReadFile(fs.Lookup("/big.bin")!, 1 << 20));
        Assert.Contains("more than the 1048576 read here", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Seeded mutations of the metadata (group descriptors, inode table, directory and extent blocks) of the small ext4
    /// image: reading the whole tree either succeeds or throws <see cref="DiskFormatException"/>, within a time limit.
    /// </summary>
    [Fact]
    public async Task MutatedMetadata_WalkOnlySucceedsOrThrowsDiskFormatException()
    {
        byte[] image = File.ReadAllBytes(_trees.Image("ext4-small"));
        // The small image has 1 KiB blocks and one group: its descriptors, inode table and directories lie in the first 640 KiB.
        const int MetadataEnd = 640 << 10;
        var random = new Random(4242);
        int successes = 0, refusals = 0;
        await Task.Run(() =>
        {
            for (int i = 0; i < 1500; i++)
            {
                int count = random.Next(1, 8);
                var saved = new List<(int At, byte Was)>();
                for (int k = 0; k < count; k++)
                {
                    int at = 1024 + random.Next(MetadataEnd - 1024);
                    saved.Add((at, image[at]));
                    image[at] = random.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)random.Next(256) };
                }

                try
                {
                    using var reader = new DiskReader(new MemoryStream(image, writable: false));
                    Walk(ExtFileSystem.Open(reader, 0, image.Length));
                    successes++;
                }
                catch (DiskFormatException)
                {
                    refusals++;
                }
                finally
                {
                    foreach ((int at, byte was) in Enumerable.Reverse(saved))
                    {
                        image[at] = was;
                    }
                }
            }
        }).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(successes > 100 && refusals > 10, $"{successes} walks succeeded, {refusals} refused");
    }

    /// <summary>Every entry under <paramref name="root"/>, not descending into links.</summary>
    private static IEnumerable<string> Entries(string root)
    {
        foreach (string path in Directory.EnumerateFileSystemEntries(root))
        {
            yield return path;
            if (new FileInfo(path).LinkTarget is null && Directory.Exists(path))
            {
                foreach (string below in Entries(path))
                {
                    yield return below;
                }
            }
        }
    }

    private static void Walk(ExtFileSystem fs)
    {
        var pending = new Stack<ExtInode>([fs.ReadInode(ExtFileSystem.RootInode)]);
        int visited = 0;
        while (pending.Count > 0 && visited++ < 10_000)
        {
            ExtInode dir = pending.Pop();
            foreach (ExtDirectoryEntry entry in fs.ReadDirectory(dir))
            {
                ExtInode inode = fs.ReadInode(entry.Inode);
                if (inode.IsDirectory)
                {
                    pending.Push(inode);
                }
                else if (inode.IsSymlink)
                {
                    fs.ReadLink(inode);
                }
                else if (inode.IsRegular && inode.Size < (8 << 20))
                {
                    fs.ReadFile(inode, 8 << 20);
                }
            }
        }
    }

    /// <summary>The source tree and the file system images made from it (built once for the class).</summary>
    public sealed class Trees : IDisposable
    {
        private readonly TempDir _dir = new("ext-reader");

        public Trees()
        {
            Source = Path.Combine(_dir.Path, "tree");
            MakeTree(Source);
            Make("ext4", "mkfs.ext4", Source, "64M");
            Make("ext4-inline", "mkfs.ext4", Source, "64M", "-O", "inline_data");
            Make("ext2-1k", "mkfs.ext2", Source, "96M", "-b", "1024");
            string small = Path.Combine(_dir.Path, "small");
            Directory.CreateDirectory(Path.Combine(small, "etc"));
            File.WriteAllText(Path.Combine(small, "etc/fstab"), "UUID=abc / ext4 defaults 0 1\n");
            for (int i = 0; i < 200; i++)
            {
                Directory.CreateDirectory(Path.Combine(small, $"d{i % 20}"));
                File.WriteAllBytes(Path.Combine(small, $"d{i % 20}/f{i}"), new byte[(i * 97) % 9000]);
            }

            File.CreateSymbolicLink(Path.Combine(small, "link"), "etc/fstab");
            Make("ext4-small", "mkfs.ext4", small, "8M");
        }

        public string Source { get; }

        public string Image(string kind) => Path.Combine(_dir.Path, kind + ".img");

        public void Dispose() => _dir.Dispose();

        private void Make(string kind, string mkfs, string tree, string size, params string[] options)
        {
            Images.CreateSparse(Image(kind), long.Parse(size.TrimEnd('M'), System.Globalization.CultureInfo.InvariantCulture) << 20);
            Tool.Run(mkfs, [.. options, "-q", "-F", "-d", tree, Image(kind)]);
        }

        private static void MakeTree(string root)
        {
            var random = new Random(11);
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            File.WriteAllText(Path.Combine(root, "etc/hello.conf"), "hello from the image\n");
            File.WriteAllText(Path.Combine(root, "tiny"), "x");
            File.WriteAllBytes(Path.Combine(root, "empty"), []);
            File.WriteAllText(Path.Combine(root, "inline-plus"), new string('i', 100)); // past i_block: system.data when inline
            var big = new byte[3 << 20];
            random.NextBytes(big);
            File.WriteAllBytes(Path.Combine(root, "big.bin"), big);
            File.WriteAllBytes(Path.Combine(root, "medium.bin"), big[..(600 << 10)]); // double indirect with 1 KiB blocks

            // One byte in every 64 KiB: mke2fs leaves the zero blocks out, so each byte is its own extent.
            var sparse = new byte[40 << 20];
            for (int at = 0; at < sparse.Length; at += 64 << 10)
            {
                sparse[at] = (byte)(1 + (at >> 16));
            }

            sparse[^1] = 0xAA; // mke2fs -O inline_data cuts a file's size after its last written block (e2fsprogs 1.47)
            File.WriteAllBytes(Path.Combine(root, "sparse.bin"), sparse);

            string deep = root;
            for (int i = 0; i < 30; i++)
            {
                deep = Path.Combine(deep, $"level{i}");
            }

            Directory.CreateDirectory(deep);
            File.WriteAllText(Path.Combine(deep, "bottom.txt"), "deep");
            Directory.CreateDirectory(Path.Combine(root, "deep"));
            Directory.CreateDirectory(Path.Combine(root, "many"));
            for (int i = 0; i < 2100; i++)
            {
                File.WriteAllText(Path.Combine(root, "many", $"entry-with-a-longish-name-{i:D5}"), i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            Directory.CreateDirectory(Path.Combine(root, "links"));
            File.CreateSymbolicLink(Path.Combine(root, "links/relative"), "../etc/hello.conf");
            File.CreateSymbolicLink(Path.Combine(root, "links/absolute"), "/etc/hello.conf");
            File.CreateSymbolicLink(Path.Combine(root, "links/chain"), "relative");
            Directory.CreateSymbolicLink(Path.Combine(root, "links/dir"), "/etc");
            File.CreateSymbolicLink(Path.Combine(root, "links/dangling"), "/nowhere/at/all");
            File.CreateSymbolicLink(Path.Combine(root, "links/loop"), "loop");
            File.CreateSymbolicLink(Path.Combine(root, "links/long"), "/" + string.Join('/', Enumerable.Range(0, 30).Select(i => $"level{i}")) + "/bottom.txt");
        }
    }
}
