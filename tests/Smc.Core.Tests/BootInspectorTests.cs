using Smc.Core.Domain;
using Smc.Core.Images;
using Smc.Disks;
using Smc.Wire.Boot;

namespace Smc.Core.Tests;

/// <summary>
/// Boot readiness read from disk images built with the real tools: sfdisk (GPT with a BIOS boot partition), mkfs.ext4 -d
/// of a root tree with /etc/fstab, GRUB's configuration, a kernel and an initramfs packed by cpio (an uncompressed early
/// archive, then gzip or zstd, as Debian's initramfs-tools and dracut ship them). A healthy image passes every check;
/// each way of breaking it is found by its own check, with its fix.
/// </summary>
public sealed class BootInspectorTests : IDisposable
{
    private readonly TempDir _dir = new("boot");

    [Fact]
    public void AHealthyImage_PassesEveryCheck()
    {
        BootReadiness readiness = Inspect(new BootSample());
        Assert.True(readiness.Status == BootCheck.Pass, Describe(readiness));
        Assert.Equal(["boot.mode", "boot.loader", "fstab.devices", "boot.root", "boot.kernel", "drivers.virtio"], readiness.Checks.Select(c => c.Id).ToArray());
        Assert.Equal(("BIOS", $"vmlinuz-{BootSample.Version}", $"initrd.img-{BootSample.Version}"), (readiness.BootMode, readiness.Kernel, readiness.Initramfs));
        Assert.Equal(("Debian GNU/Linux 12 (bookworm)", "Debian"), (readiness.OsName, readiness.Platform)); // what ImportImage is told
    }

    [Fact]
    public void ZstdInitramfs_AndVirtioBuiltIntoTheKernel_Pass()
    {
        BootReadiness readiness = Inspect(new BootSample { Compression = "zstd", InInitramfs = ["virtio_blk", "virtio_scsi"], BuiltIn = ["virtio_net", "virtio_pci"] });
        Assert.True(readiness.Status == BootCheck.Pass, Describe(readiness));
    }

    [Fact]
    public void XzInitramfs_NotGuessedAt_WarnsNamingTheCompression()
    {
        BootCheck check = Check(Inspect(new BootSample { Compression = "xz" }), "drivers.virtio");
        Assert.Equal(BootCheck.Warn, check.Status);
        Assert.Contains("compressed with xz", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FstabByDeviceName_FailsWithTheFix()
    {
        BootCheck check = Check(Inspect(new BootSample { FstabSpec = "/dev/sda2" }), "fstab.devices");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("/ is /dev/sda2", check.Message, StringComparison.Ordinal);
        Assert.Contains("the boot goes on from root=", check.Message, StringComparison.Ordinal); // a hazard, said as such
        Assert.Contains("UUID=", check.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EFI/BOOT/BOOTX64.EFI,EFI/debian/grubx64.efi", "pass", "/EFI/BOOT/BOOTX64.EFI")]
    [InlineData("EFI/debian/shimx64.efi,EFI/debian/grubx64.efi", "warn", "no /EFI/BOOT/BOOTX64.EFI")]
    [InlineData("", "fail", "No UEFI boot loader")]
    public void AUefiImage_IsJudgedByTheLoaderOnItsEsp_ReadFromItsFat(string loaders, string status, string message)
    {
        BootReadiness readiness = Inspect(new BootSample { Grub = false, EspLoaders = loaders.Split(',', StringSplitOptions.RemoveEmptyEntries) });
        Assert.Equal("UEFI", readiness.BootMode);
        BootCheck check = Check(readiness, "boot.loader");
        Assert.True(check.Status == status, Describe(readiness));
        Assert.Contains(message, check.Message, StringComparison.Ordinal);
        Assert.Equal(status == "pass", check.Fix is null);
    }

    [Fact]
    public void FstabUuidOfAnotherMachine_Fails()
    {
        BootCheck check = Check(Inspect(new BootSample { FstabSpec = "UUID=00000000-1111-2222-3333-444444444444" }), "fstab.devices");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("which no file system here has", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelRootByDeviceName_Fails()
    {
        BootCheck check = Check(Inspect(new BootSample { RootArgument = "/dev/sda2" }), "boot.root");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("update-grub", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void InitramfsWithoutVirtio_FailsNamingTheMissingDrivers()
    {
        BootCheck check = Check(Inspect(new BootSample { InInitramfs = ["virtio_pci"] }), "drivers.virtio");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("virtio_blk, virtio_scsi, virtio_net", check.Message, StringComparison.Ordinal);
        Assert.Contains("update-initramfs", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void NoBootLoader_Fails()
    {
        BootCheck check = Check(Inspect(new BootSample { Grub = false }), "boot.loader");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("grub-install", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void NoInitramfs_FailsTheKernelCheck()
    {
        BootCheck check = Check(Inspect(new BootSample { Initramfs = false }), "boot.kernel");
        Assert.Equal(BootCheck.Fail, check.Status);
        Assert.Contains("no initramfs", check.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();

    private static BootCheck Check(BootReadiness readiness, string id) =>
        readiness.Checks.SingleOrDefault(c => c.Id == id) ?? throw new Xunit.Sdk.XunitException($"no {id} check: {Describe(readiness)}");

    private static string Describe(BootReadiness r) => string.Join("\n", r.Checks.Select(c => $"{c.Id} {c.Status}: {c.Message}"));

    /// <summary>Builds the disk image a <paramref name="source"/> describes and inspects it.</summary>
    private BootReadiness Inspect(BootSample source)
    {
        string tree = source.BuildTree(_dir.Path);
        string disk = source.BuildDisk(_dir.Path, BootSample.BuildFileSystem(_dir.Path, tree));
        using DiskReader reader = DiskReader.Open(disk);
        return BootInspector.Inspect(reader);
    }
}
