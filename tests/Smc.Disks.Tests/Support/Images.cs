using System.Globalization;
using System.Text.RegularExpressions;

namespace Smc.Disks.Tests.Support;

/// <summary>Builds disk images with the real tools, and asks the real tools what they contain.</summary>
internal static partial class Images
{
    public const long MiB = 1024 * 1024;

    /// <summary>A sparse file of <paramref name="size"/> bytes (what <c>truncate -s</c> does).</summary>
    public static void CreateSparse(string path, long size)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        file.SetLength(size);
    }

    /// <summary>Writes a partition table with <c>sfdisk</c> from a script (<c>label: gpt</c> / <c>label: dos</c>, one line per partition).</summary>
    public static void Sfdisk(string image, string script) => Tool.RunWithInput("sfdisk", script, "-q", image);

    /// <summary>Copies a file system image into a disk image at a byte offset (holes stay holes).</summary>
    public static void CopyInto(string part, string disk, long offsetBytes) =>
        Tool.Run("dd", $"if={part}", $"of={disk}", "bs=1M", $"seek={offsetBytes}", "oflag=seek_bytes", "conv=notrunc,sparse", "status=none");

    /// <summary>Writes <paramref name="count"/> bytes of deterministic garbage at <paramref name="offset"/> (stale data that free space holds on a used disk).</summary>
    public static void WriteGarbage(string image, long offset, int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        using var file = new FileStream(image, FileMode.Open, FileAccess.Write);
        file.Position = offset;
        file.Write(bytes);
    }

    /// <summary>A larger deterministic tree (about 5 MiB: <see cref="MakeTree"/>, big and medium files, 40 small ones, an empty one).</summary>
    public static string MakeLargerTree(string parent)
    {
        string root = MakeTree(parent);
        var random = new Random(7);
        var big = new byte[3 * 1024 * 1024];
        random.NextBytes(big);
        File.WriteAllBytes(Path.Combine(root, "big.bin"), big);
        Directory.CreateDirectory(Path.Combine(root, "sub", "deep"));
        var medium = new byte[700_001];
        random.NextBytes(medium);
        File.WriteAllBytes(Path.Combine(root, "sub", "deep", "medium.bin"), medium);
        Directory.CreateDirectory(Path.Combine(root, "many"));
        for (int i = 0; i < 40; i++)
        {
            var small = new byte[random.Next(1, 8192)];
            random.NextBytes(small);
            File.WriteAllBytes(Path.Combine(root, "many", $"f{i:D2}.bin"), small);
        }

        File.WriteAllBytes(Path.Combine(root, "empty"), []);
        return root;
    }

    /// <summary>A small deterministic directory tree (about 300 KiB) to put into file systems.</summary>
    public static string MakeTree(string parent)
    {
        string root = Path.Combine(parent, "tree");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        var random = new Random(42);
        var blob = new byte[300_000];
        random.NextBytes(blob);
        File.WriteAllBytes(Path.Combine(root, "blob.bin"), blob);
        File.WriteAllText(Path.Combine(root, "sub", "hello.txt"), "hello from smc\n");
        return root;
    }

    /// <summary><c>mkfs.ext2/3/4</c> straight into a disk image at <paramref name="offset"/> (or a file at 0), optionally populated from <paramref name="tree"/>, with <paramref name="extra"/> options.</summary>
    public static void MkExt(string type, string image, long offset, long size, string label, string? tree, params string[] extra)
    {
        var args = new List<string> { "-F", "-q", "-L", label };
        var extended = new List<string>();
        for (int i = 0; i < extra.Length; i++)
        {
            if (extra[i] == "-E" && i + 1 < extra.Length)
            {
                extended.Add(extra[++i]); // mke2fs keeps only the last -E, so all extended options go into one.
            }
            else
            {
                args.Add(extra[i]);
            }
        }

        if (tree is not null)
        {
            args.AddRange(["-d", tree]);
        }

        if (offset != 0)
        {
            extended.Add($"offset={offset}");
        }

        if (extended.Count > 0)
        {
            args.AddRange(["-E", string.Join(',', extended)]);
        }

        args.AddRange([image, $"{size / 1024}k"]);
        Tool.Run($"mkfs.{type}", [.. args]);
    }

    public static void MkXfs(string part, long size, string label, string? protoFile)
    {
        CreateSparse(part, size);
        var args = new List<string> { "-f", "-q", "-L", label };
        if (protoFile is not null)
        {
            args.AddRange(["-p", protoFile]);
        }

        args.Add(part);
        Tool.Run("mkfs.xfs", [.. args]);
    }

    /// <summary>An mkfs.xfs prototype file that copies <paramref name="tree"/>'s two files.</summary>
    public static string XfsProto(string dir, string tree)
    {
        string proto = Path.Combine(dir, "xfs.proto");
        File.WriteAllText(proto, $"""
            /dev/null
            0 0
            d--755 0 0
            blob.bin ---644 0 0 {Path.Combine(tree, "blob.bin")}
            sub d--755 0 0
            hello.txt ---644 0 0 {Path.Combine(tree, "sub", "hello.txt")}
            $
            $

            """);
        return proto;
    }

    /// <summary><c>mkntfs</c> into a new sparse file, then <c>ntfscp</c> of <paramref name="files"/>.</summary>
    public static void MkNtfs(string part, long size, string label, params string[] files)
    {
        CreateSparse(part, size);
        Tool.Run("mkntfs", "-F", "-Q", "-q", "-L", label, part);
        foreach (string file in files)
        {
            Tool.Run("ntfscp", "-f", part, file, Path.GetFileName(file));
        }
    }

    public static void MkVfat(string part, long size, int fatBits, string label, params string[] extra)
    {
        CreateSparse(part, size);
        Tool.Run("mkfs.vfat", ["-F", fatBits.ToString(CultureInfo.InvariantCulture), "-n", label, .. extra, part]);
    }

    public static void MkSwap(string part, long size, string label)
    {
        CreateSparse(part, size);
        Tool.Run("mkswap", "-L", label, part);
    }

    /// <summary><c>blkid -p</c> (low-level probe, no cache) of a whole file or of a byte range of it, as KEY=value pairs.</summary>
    public static Dictionary<string, string> Blkid(string image, long? offset = null, long? size = null)
    {
        var args = new List<string> { "-p", "-o", "export" };
        if (offset is not null)
        {
            args.AddRange(["-O", offset.Value.ToString(CultureInfo.InvariantCulture)]);
        }

        if (size is not null)
        {
            args.AddRange(["-S", size.Value.ToString(CultureInfo.InvariantCulture)]);
        }

        args.Add(image);
        return Tool.Run("blkid", [.. args])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1]);
    }

    /// <summary>Our file system name for blkid's TYPE.</summary>
    public static string FromBlkidType(string type) => type == "LVM2_member" ? "lvm2" : type;

    /// <summary>(Block count − Free blocks) × Block size from <c>dumpe2fs -h</c>; <paramref name="offset"/> uses e2fsprogs' <c>image?offset=N</c> syntax.</summary>
    public static long ExtUsedBytes(string image, long offset = 0)
    {
        string spec = offset == 0 ? image : $"{image}?offset={offset}";
        string output = Tool.Run("dumpe2fs", "-h", spec);
        long blocks = Field(output, @"^Block count:\s+(\d+)");
        long free = Field(output, @"^Free blocks:\s+(\d+)");
        long blockSize = Field(output, @"^Block size:\s+(\d+)");
        return (blocks - free) * blockSize;
    }

    /// <summary>(dblocks − fdblocks) × blocksize from <c>xfs_db</c>.</summary>
    public static long XfsUsedBytes(string part)
    {
        string output = Tool.Run("xfs_db", "-r", "-c", "sb 0", "-c", "p dblocks", "-c", "p fdblocks", "-c", "p blocksize", part);
        return (Field(output, @"^dblocks = (\d+)") - Field(output, @"^fdblocks = (\d+)")) * Field(output, @"^blocksize = (\d+)");
    }

    /// <summary>"bytes per volume" − "bytes of free space" from <c>ntfscluster</c>'s info mode (which counts $Bitmap).</summary>
    public static long NtfsUsedBytes(string part)
    {
        string output = Tool.Run("ntfscluster", "-f", part);
        return Field(output, @"^bytes per volume\s*:\s*(\d+)") - Field(output, @"^bytes of free space\s*:\s*(\d+)");
    }

    /// <summary>Used clusters × cluster size from <c>fsck.vfat -n -v</c> ("N files, U/T clusters").</summary>
    public static long FatUsedBytes(string part)
    {
        string output = Tool.Run("fsck.vfat", "-n", "-v", part);
        long used = Field(output, @"\d+ files, (\d+)/\d+ clusters");
        long clusterSize = Field(output, @"^\s*(\d+) bytes per cluster");
        return used * clusterSize;
    }

    private static long Field(string output, string pattern)
    {
        Match match = Regex.Match(output, pattern, RegexOptions.Multiline);
        return match.Success
            ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"'{pattern}' not found in tool output:\n{output}");
    }
}
