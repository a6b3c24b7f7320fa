using Smc.Core.Domain;
using Smc.Core.Images;
using Smc.Disks;

namespace Smc.Core.Tests;

/// <summary>
/// Boot readiness read from disk images built with the real tools: sfdisk (GPT with a BIOS boot partition), mkfs.ext4 -d
/// of a root tree with /etc/fstab, GRUB's configuration, a kernel and an initramfs packed by cpio (an uncompressed early
/// archive, then gzip or zstd, as Debian's initramfs-tools and dracut ship them). A healthy image passes every check;
/// each way of breaking it is found by its own check, with its fix.
/// </summary>
public sealed class BootInspectorTests : IDisposable
{
    private const string Version = "6.1.0-28-amd64";
    private const string RootUuid = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
    private readonly TempDir _dir = new("boot");

    [Fact]
    public void AHealthyImage_PassesEveryCheck()
    {
        BootReadiness readiness = Inspect(new Source());
        Assert.True(readiness.Status == BootCheck.Pass, Describe(readiness));
        Assert.Equal(["boot.mode", "boot.loader", "fstab.devices", "boot.root", "boot.kernel", "drivers.virtio"], readiness.Checks.Select(c => c.Id).ToArray());
        Assert.Equal(("BIOS", $"vmlinuz-{Version}", $"initrd.img-{Version}"), (readiness.BootMode, readiness.Kernel, readiness.Initramfs));
    }

    [Fact]
    public void ZstdInitramfs_AndVirtioBuiltIntoTheKernel_Pass()
    {
        BootReadiness readiness = Inspect(new Source { Compression = "zstd", InInitramfs = ["virtio_blk", "virtio_scsi"], BuiltIn = ["virtio_net", "virtio_pci"] });
        Assert.True(readiness.Status == BootCheck.Pass, Describe(readiness));
    }

    [Fact]
    public void XzInitramfs_NotGuessedAt_WarnsNamingTheCompression()
    {
        BootCheck check = Check(Inspect(new Source { Compression = "xz" }), "drivers.virtio");
        Assert.Equal(BootCheck.Warn, check.Status);
        Assert.Contains("compressed with xz", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FstabByDeviceName_FailsWithTheFix()
    {
        BootCheck check = Check(Inspect(new Source { FstabSpec = "/dev/sda2" }), "fstab.devices");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("/dev/sda2", check.Message, StringComparison.Ordinal);
        Assert.Contains("UUID=", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void FstabUuidOfAnotherMachine_Fails()
    {
        BootCheck check = Check(Inspect(new Source { FstabSpec = "UUID=00000000-1111-2222-3333-444444444444" }), "fstab.devices");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("no file system of this image", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelRootByDeviceName_Fails()
    {
        BootCheck check = Check(Inspect(new Source { RootArgument = "/dev/sda2" }), "boot.root");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("update-grub", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void InitramfsWithoutVirtio_FailsNamingTheMissingDrivers()
    {
        BootCheck check = Check(Inspect(new Source { InInitramfs = ["virtio_pci"] }), "drivers.virtio");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("virtio_blk, virtio_scsi, virtio_net", check.Message, StringComparison.Ordinal);
        Assert.Contains("update-initramfs", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void NoBootLoader_Fails()
    {
        BootCheck check = Check(Inspect(new Source { Grub = false }), "boot.loader");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("grub-install", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void NoInitramfs_FailsTheKernelCheck()
    {
        BootCheck check = Check(Inspect(new Source { Initramfs = false }), "boot.kernel");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("no initramfs", check.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();

    private static BootCheck Check(BootReadiness readiness, string id) =>
        readiness.Checks.SingleOrDefault(c => c.Id == id) ?? throw new Xunit.Sdk.XunitException($"no {id} check: {Describe(readiness)}");

    private static string Describe(BootReadiness r) => string.Join("\n", r.Checks.Select(c => $"{c.Id} {c.Status}: {c.Message}"));

    /// <summary>Builds the disk image a <paramref name="source"/> describes and inspects it.</summary>
    private BootReadiness Inspect(Source source)
    {
        string tree = Path.Combine(_dir.Path, "tree-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(tree, "etc"));
        Directory.CreateDirectory(Path.Combine(tree, "boot/grub"));
        Directory.CreateDirectory(Path.Combine(tree, $"lib/modules/{Version}"));
        File.WriteAllText(Path.Combine(tree, "etc/fstab"), $"# <file system> <mount point> <type> <options> <dump> <pass>\n{source.FstabSpec} / ext4 errors=remount-ro 0 1\nproc /proc proc defaults 0 0\n");
        File.WriteAllText(Path.Combine(tree, "boot/grub/grub.cfg"),
            $"menuentry 'Debian GNU/Linux' {{\n\tinsmod ext2\n\tlinux\t/boot/vmlinuz-{Version} root={source.RootArgument} ro quiet\n\tinitrd\t/boot/initrd.img-{Version}\n}}\n");
        File.WriteAllBytes(Path.Combine(tree, $"boot/vmlinuz-{Version}"), new byte[300_000]);
        File.WriteAllText(Path.Combine(tree, $"lib/modules/{Version}/modules.builtin"),
            string.Concat(source.BuiltIn.Select(m => $"kernel/drivers/virtio/{m}.ko\n")) + "kernel/fs/ext4/ext4.ko\n");
        if (source.Initramfs)
        {
            File.WriteAllBytes(Path.Combine(tree, $"boot/initrd.img-{Version}"), MakeInitramfs(source));
        }

        string root = Path.Combine(_dir.Path, "root.img");
        string disk = Path.Combine(_dir.Path, "disk.img");
        File.Delete(root);
        File.Delete(disk);
        using (var f = new FileStream(root, FileMode.CreateNew))
        {
            f.SetLength(40 << 20);
        }

        Tool.Run("mkfs.ext4", "-q", "-F", "-U", RootUuid, "-d", tree, root);
        using (var f = new FileStream(disk, FileMode.CreateNew))
        {
            f.SetLength(48 << 20);
        }

        Tool.RunWithInput("sfdisk", "label: gpt\nstart=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649\nstart=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n", "-q", disk);
        Tool.Run("dd", $"if={root}", $"of={disk}", "bs=1M", "seek=2", "conv=notrunc,sparse", "status=none");
        if (source.Grub)
        {
            // The strings GRUB's boot.img carries in the MBR's code area.
            using var f = new FileStream(disk, FileMode.Open, FileAccess.Write);
            f.Position = 0x17F;
            f.Write("GRUB \0Geom\0Hard Disk\0Read\0 Error\r\n"u8);
        }

        using DiskReader reader = DiskReader.Open(disk);
        return BootInspector.Inspect(reader);
    }

    /// <summary>An early uncompressed cpio archive (microcode), then the main one compressed, as initramfs-tools writes them.</summary>
    private byte[] MakeInitramfs(Source source)
    {
        string early = Path.Combine(_dir.Path, "early-" + Guid.NewGuid().ToString("N"));
        string main = Path.Combine(_dir.Path, "main-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(early, "kernel/x86/microcode"));
        File.WriteAllBytes(Path.Combine(early, "kernel/x86/microcode/GenuineIntel.bin"), new byte[5000]);
        string modules = Path.Combine(main, $"usr/lib/modules/{Version}/kernel/drivers");
        Directory.CreateDirectory(modules);
        Directory.CreateDirectory(Path.Combine(main, "scripts"));
        File.WriteAllText(Path.Combine(main, "init"), "#!/bin/sh\n");
        foreach (string m in source.InInitramfs)
        {
            File.WriteAllBytes(Path.Combine(modules, m + (source.Compression == "zstd" ? ".ko.zst" : ".ko")), new byte[2000 + m.Length]);
        }

        File.WriteAllBytes(Path.Combine(modules, "ext4.ko"), new byte[3000]);
        byte[] earlyCpio = Cpio(early);
        byte[] mainCpio = Cpio(main);
        string packed = Path.Combine(_dir.Path, "main.cpio");
        File.WriteAllBytes(packed, mainCpio);
        Tool.Run(source.Compression, "-q", "-f", packed);
        string suffix = source.Compression switch { "zstd" => ".zst", "xz" => ".xz", _ => ".gz" };
        byte[] compressed = File.ReadAllBytes(packed + suffix);
        File.Delete(packed + suffix);
        File.Delete(packed);
        return [.. earlyCpio, .. compressed];
    }

    /// <summary>A newc archive of a directory, by the real cpio (<c>find . | cpio -o -H newc</c>).</summary>
    private static byte[] Cpio(string dir)
    {
        string list = string.Join('\n', Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p)).Order(StringComparer.Ordinal)) + "\n";
        string output = dir + ".cpio";
        Tool.RunWithInput("sh", list, "-c", $"cd '{dir}' && cpio --quiet -o -H newc > '{output}'");
        return File.ReadAllBytes(output);
    }

    private sealed record Source
    {
        public string FstabSpec { get; init; } = $"UUID={RootUuid}";

        public string RootArgument { get; init; } = $"UUID={RootUuid}";

        public string[] InInitramfs { get; init; } = ["virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci"];

        public string[] BuiltIn { get; init; } = [];

        public string Compression { get; init; } = "gzip";

        public bool Grub { get; init; } = true;

        public bool Initramfs { get; init; } = true;
    }
}
