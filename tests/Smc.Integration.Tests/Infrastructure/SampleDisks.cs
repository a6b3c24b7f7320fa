namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Disk images made by the real tools (sfdisk, mkfs.*): no root, no loop devices.</summary>
internal static class SampleDisks
{
    public const string LinuxFs = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
    public const string LinuxSwap = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";
    public const string EfiSystem = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    public const string MsData = "EBD0A0A2-B9E5-4433-87C0-68B6167299C7";

    /// <summary>GPT: EFI (vfat), root (ext4 with files), swap.</summary>
    public static string Gpt(Sandbox box, string name = "gpt.img", int dataMiB = 3)
    {
        string img = box.File(name);
        Tool.Run("truncate", ["-s", "96M", img]);
        Tool.Run("sfdisk", ["-q", img], stdin:
            $"label: gpt\nstart=2048, size=32768, type={EfiSystem}, name=\"EFI\"\nstart=34816, size=98304, type={LinuxFs}, name=\"root\"\nstart=133120, size=32768, type={LinuxSwap}\n");
        string tree = box.File(name + ".tree");
        Directory.CreateDirectory(Path.Combine(tree, "etc"));
        File.WriteAllText(Path.Combine(tree, "etc", "hostname"), "web-1\n");
        // By device name, as older installers wrote it: the image's boot readiness must flag it (FullCopyTests), and the
        // pre-flight check fails it, so `migrate` of this disk takes --force.
        File.WriteAllText(Path.Combine(tree, "etc", "fstab"), "/dev/sda2 / ext4 errors=remount-ro 0 1\n");
        File.WriteAllBytes(Path.Combine(tree, "data.bin"), Enumerable.Range(0, dataMiB << 20).Select(i => (byte)(i * 7)).ToArray());

        // Metadata a migration must keep: an executable of another owner, a private directory, a symlink.
        Directory.CreateDirectory(Path.Combine(tree, "opt", "app"));
        File.WriteAllText(Path.Combine(tree, "opt", "app", "run.sh"), "#!/bin/sh\necho ok\n");
        File.SetUnixFileMode(Path.Combine(tree, "opt", "app", "run.sh"), (UnixFileMode)Convert.ToInt32("750", 8));
        File.SetUnixFileMode(Path.Combine(tree, "opt", "app"), (UnixFileMode)Convert.ToInt32("700", 8));
        Tool.Run("chown", ["-R", "1234:5678", Path.Combine(tree, "opt", "app")]);
        File.CreateSymbolicLink(Path.Combine(tree, "etc", "app.sh"), "../opt/app/run.sh");
        Tool.Run("mkfs.ext4", ["-q", "-F", "-d", tree, "-E", $"offset={34816 * 512}", img, "48M"]);
        Place(box, img, 2048, 16, "vfat", p => Tool.Run("mkfs.vfat", [p]));
        Place(box, img, 133120, 16, "swap", p => Tool.Run("mkswap", [p]));
        return img;
    }

    /// <summary>MBR: XFS (300 MiB, sparse) and NTFS.</summary>
    public static string Mbr(Sandbox box, string name = "mbr.img")
    {
        string img = box.File(name);
        Tool.Run("truncate", ["-s", "400M", img]);
        Tool.Run("sfdisk", ["-q", img], stdin: "label: dos\nstart=2048, size=614400, type=83, bootable\nstart=616448, size=163840, type=7\n");
        Place(box, img, 2048, 300, "xfs", p => Tool.Run("mkfs.xfs", ["-q", "-f", p]));
        Place(box, img, 616448, 80, "ntfs", p => Tool.Run("mkntfs", ["-q", "-F", "-Q", p]));
        return img;
    }

    /// <summary>GPT with one ext4 partition holding <paramref name="randomMiB"/> MiB of seeded random files (slow to assemble on purpose).</summary>
    public static string GptLarge(Sandbox box, string name, int randomMiB)
    {
        string img = box.File(name);
        long partMiB = randomMiB + 64;
        Tool.Run("truncate", ["-s", $"{partMiB + 2}M", img]);
        Tool.Run("sfdisk", ["-q", img], stdin: $"label: gpt\nstart=2048, size={partMiB * 2048}, type={LinuxFs}, name=\"root\"\n");
        string tree = box.File(name + ".tree");
        Directory.CreateDirectory(tree);
        var random = new Random(randomMiB);
        for (int i = 0; i < randomMiB / 8; i++)
        {
            byte[] data = new byte[8 << 20];
            random.NextBytes(data);
            File.WriteAllBytes(Path.Combine(tree, $"blob{i:D3}.bin"), data);
        }

        Tool.Run("mkfs.ext4", ["-q", "-F", "-d", tree, "-E", $"offset={2048 * 512}", img, $"{partMiB}M"]);
        Directory.Delete(tree, recursive: true);
        return img;
    }

    /// <summary>Small MBR disk: ext4 with files (bootable) and NTFS holding <c>/report.txt</c>.</summary>
    public static string MbrSmall(Sandbox box, string name, string ntfsText)
    {
        string img = box.File(name);
        Tool.Run("truncate", ["-s", "64M", img]);
        Tool.Run("sfdisk", ["-q", img], stdin: "label: dos\nstart=2048, size=65536, type=83, bootable\nstart=67584, size=49152, type=7\n");
        string tree = box.File(name + ".tree");
        Directory.CreateDirectory(Path.Combine(tree, "srv"));
        File.WriteAllText(Path.Combine(tree, "srv", "app.conf"), "port=8080\n");
        Tool.Run("mkfs.ext4", ["-q", "-F", "-d", tree, "-E", $"offset={2048 * 512}", img, "32M"]);
        string text = box.File(name + ".report.txt");
        File.WriteAllText(text, ntfsText);
        Place(box, img, 67584, 24, "ntfs", p =>
        {
            Tool.Run("mkntfs", ["-q", "-F", "-Q", p]);
            Tool.Run("ntfscp", ["-f", p, text, "/report.txt"]);
        });
        return img;
    }

    /// <summary>Makes a file system in a separate file, then copies it into the image at a sector offset.</summary>
    private static void Place(Sandbox box, string img, long startSector, int sizeMiB, string tag, Action<string> make)
    {
        string part = box.File($"{Path.GetFileName(img)}.{tag}.part");
        Tool.Run("truncate", ["-s", $"{sizeMiB}M", part]);
        make(part);
        Tool.Run("dd", [$"if={part}", $"of={img}", "bs=512", $"seek={startSector}", "conv=notrunc,sparse", "status=none"]);
        File.Delete(part);
    }
}
