namespace Smc.Testing;

/// <summary>
/// A Linux root file system as boot checks see it, built with the real tools: a tree with <c>/etc/fstab</c>, GRUB's
/// configuration, a kernel, its <c>modules.builtin</c> and an initramfs packed by cpio (an uncompressed early archive,
/// then the main one compressed with gzip, zstd or xz, as initramfs-tools and dracut ship them); the tree as an ext4
/// file system (<c>mkfs.ext4 -d</c>); and that file system on a GPT disk (sfdisk) with a BIOS boot partition and,
/// optionally, GRUB's boot code in the first sector. Each property breaks the sample one way.
/// </summary>
public sealed record BootSample
{
    public const string Version = "6.1.0-28-amd64";
    public const string RootUuid = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";

    public string FstabSpec { get; init; } = $"UUID={RootUuid}";

    public string RootArgument { get; init; } = $"UUID={RootUuid}";

    public string[] InInitramfs { get; init; } = ["virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci"];

    public string[] BuiltIn { get; init; } = [];

    public string Compression { get; init; } = "gzip";

    public bool Grub { get; init; } = true;

    public bool Initramfs { get; init; } = true;

    /// <summary>Not null: partition 1 is an EFI system partition (FAT, by mkfs.vfat and mtools) holding these loader files, e.g. <c>EFI/BOOT/BOOTX64.EFI</c>.</summary>
    public string[]? EspLoaders { get; init; }

    /// <summary>The tree under <c>dir/tree-*</c>; returns its path.</summary>
    public string BuildTree(string dir)
    {
        string tree = Path.Combine(dir, "tree-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(tree, "etc/initramfs-tools"));
        Directory.CreateDirectory(Path.Combine(tree, "boot/grub/i386-pc"));
        Directory.CreateDirectory(Path.Combine(tree, $"lib/modules/{Version}"));
        File.WriteAllText(Path.Combine(tree, "etc/os-release"), "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nID=debian\n");
        File.WriteAllText(Path.Combine(tree, "etc/fstab"), $"# <file system> <mount point> <type> <options> <dump> <pass>\n{FstabSpec} / ext4 errors=remount-ro 0 1\nproc /proc proc defaults 0 0\n");
        Directory.CreateDirectory(Path.Combine(tree, "etc/default"));
        File.WriteAllText(Path.Combine(tree, "etc/default/grub"),
            $"GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n{(RootArgument.StartsWith("/dev/", StringComparison.Ordinal) ? "GRUB_DISABLE_LINUX_UUID=true\n" : "")}");
        File.WriteAllText(Path.Combine(tree, "boot/grub/grub.cfg"),
            $"menuentry 'Debian GNU/Linux' {{\n\tinsmod ext2\n\tlinux\t/boot/vmlinuz-{Version} root={RootArgument} ro quiet\n\tinitrd\t/boot/initrd.img-{Version}\n}}\n");
        File.WriteAllBytes(Path.Combine(tree, $"boot/vmlinuz-{Version}"), new byte[300_000]);
        File.WriteAllText(Path.Combine(tree, $"lib/modules/{Version}/modules.builtin"),
            string.Concat(BuiltIn.Select(m => $"kernel/drivers/virtio/{m}.ko\n")) + "kernel/fs/ext4/ext4.ko\n");
        if (Initramfs)
        {
            File.WriteAllBytes(Path.Combine(tree, $"boot/initrd.img-{Version}"), MakeInitramfs(dir));
        }

        return tree;
    }

    /// <summary>The tree as an ext4 file system image of <paramref name="sizeMiB"/> MiB with UUID <see cref="RootUuid"/>.</summary>
    public static string BuildFileSystem(string dir, string tree, int sizeMiB = 40)
    {
        string root = Path.Combine(dir, "root-" + Guid.NewGuid().ToString("N") + ".img");
        using (var f = new FileStream(root, FileMode.CreateNew))
        {
            f.SetLength((long)sizeMiB << 20);
        }

        Tool.Run("mkfs.ext4", "-q", "-F", "-U", RootUuid, "-d", tree, root);
        return root;
    }

    /// <summary>
    /// A GPT disk: a 1 MiB BIOS boot partition (or ESP, with <see cref="EspLoaders"/>), then <paramref name="fileSystem"/>
    /// at 2 MiB; GRUB's boot code when <see cref="Grub"/>.
    /// </summary>
    public string BuildDisk(string dir, string fileSystem)
    {
        string disk = Path.Combine(dir, "disk-" + Guid.NewGuid().ToString("N") + ".img");
        using (var f = new FileStream(disk, FileMode.CreateNew))
        {
            f.SetLength(new FileInfo(fileSystem).Length + (8 << 20));
        }

        string first = EspLoaders is null ? "21686148-6449-6E6F-744E-656564454649" : "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
        Tool.RunWithInput("sfdisk", $"label: gpt\nstart=2048, size=2048, type={first}\nstart=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n", "-q", disk);
        Tool.Run("dd", $"if={fileSystem}", $"of={disk}", "bs=1M", "seek=2", "conv=notrunc,sparse", "status=none");
        if (EspLoaders is not null)
        {
            string esp = Path.Combine(dir, "esp-" + Guid.NewGuid().ToString("N") + ".img");
            using (var f = new FileStream(esp, FileMode.CreateNew))
            {
                f.SetLength(1 << 20);
            }

            Tool.Run("mkfs.vfat", "-n", "EFI", esp);
            string loader = Path.Combine(dir, "loader-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(loader, new byte[4000]);
            var made = new HashSet<string>(StringComparer.Ordinal);
            foreach (string file in EspLoaders)
            {
                string folder = "";
                foreach (string part in file.Split('/')[..^1])
                {
                    folder += "/" + part;
                    if (made.Add(folder))
                    {
                        Tool.Run("mmd", "-i", esp, "::" + folder);
                    }
                }

                Tool.Run("mcopy", "-i", esp, loader, "::/" + file);
            }

            Tool.Run("dd", $"if={esp}", $"of={disk}", "bs=1M", "seek=1", "conv=notrunc", "status=none");
        }

        if (Grub)
        {
            // The strings GRUB's boot.img carries in the MBR's code area.
            using var f = new FileStream(disk, FileMode.Open, FileAccess.Write);
            f.Position = 0x17F;
            f.Write("GRUB \0Geom\0Hard Disk\0Read\0 Error\r\n"u8);
        }

        return disk;
    }

    /// <summary>An early uncompressed cpio archive (microcode), then the main one compressed, as initramfs-tools writes them.</summary>
    private byte[] MakeInitramfs(string dir)
    {
        string early = Path.Combine(dir, "early-" + Guid.NewGuid().ToString("N"));
        string main = Path.Combine(dir, "main-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(early, "kernel/x86/microcode"));
        File.WriteAllBytes(Path.Combine(early, "kernel/x86/microcode/GenuineIntel.bin"), new byte[5000]);
        string modules = Path.Combine(main, $"usr/lib/modules/{Version}/kernel/drivers");
        Directory.CreateDirectory(modules);
        Directory.CreateDirectory(Path.Combine(main, "scripts"));
        File.WriteAllText(Path.Combine(main, "init"), "#!/bin/sh\n");
        foreach (string m in InInitramfs)
        {
            File.WriteAllBytes(Path.Combine(modules, m + (Compression == "zstd" ? ".ko.zst" : ".ko")), new byte[2000 + m.Length]);
        }

        File.WriteAllBytes(Path.Combine(modules, "ext4.ko"), new byte[3000]);
        byte[] earlyCpio = Cpio(early);
        byte[] mainCpio = Cpio(main);
        string packed = main + ".main";
        File.WriteAllBytes(packed, mainCpio);
        Tool.Run(Compression, "-q", "-f", packed);
        string suffix = Compression switch { "zstd" => ".zst", "xz" => ".xz", _ => ".gz" };
        byte[] compressed = File.ReadAllBytes(packed + suffix);
        File.Delete(packed + suffix);
        return [.. earlyCpio, .. compressed];
    }

    /// <summary>A newc archive of a directory, by the real cpio (<c>find . | cpio -o -H newc</c>).</summary>
    public static byte[] Cpio(string dir)
    {
        string list = string.Join('\n', Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p)).Order(StringComparer.Ordinal)) + "\n";
        string output = dir + ".cpio";
        Tool.RunWithInput("sh", list, "-c", $"cd '{dir}' && cpio --quiet -o -H newc > '{output}'");
        return File.ReadAllBytes(output);
    }
}
