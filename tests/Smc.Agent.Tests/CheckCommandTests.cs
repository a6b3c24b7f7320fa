using System.Text.Json;
using Smc.Agent.Commands;
using Spectre.Console;

namespace Smc.Agent.Tests;

/// <summary>
/// <c>smc-agent check</c> on real parts (as root): a source's root file system made with <c>mkfs.ext4 -d</c>, attached to
/// a loop device and mounted, checked with <c>--root</c> as an operator checks a source disk mounted elsewhere; broken
/// one way at a time (fstab and GRUB by device name, an initramfs without virtio, no boot loader, a static address),
/// each found with its fix; <c>--fix</c> repairs what it may, with a backup of every file it changes. Unmounts and
/// detaches on every path.
/// </summary>
public sealed class CheckCommandTests : IDisposable
{
    private readonly TempDir _dir = new("check");
    private readonly List<Action> _cleanup = [];

    public void Dispose()
    {
        // Every step runs even when one before it failed: a mount left behind keeps its loop device busy.
        for (int i = _cleanup.Count - 1; i >= 0; i--)
        {
            try
            {
                _cleanup[i]();
            }
            catch (InvalidOperationException)
            {
                // Reported by the tool's own message; the remaining steps still run.
            }
        }

        _dir.Dispose();
    }

    [Fact]
    public void AHealthySource_NoFail_AndTheJsonReportHasItsShape()
    {
        var sample = new BootSample();
        string fs = BootSample.BuildFileSystem(_dir.Path, sample.BuildTree(_dir.Path));
        string disk = sample.BuildDisk(_dir.Path, fs);
        string root = Mount(fs);

        (int exit, string output) = Check(root, [disk], json: true);

        Assert.Equal(0, exit);
        using JsonDocument report = JsonDocument.Parse(output);
        JsonElement checks = report.RootElement.GetProperty("checks");
        string[] ids = [.. checks.EnumerateArray().Select(c => c.GetProperty("id").GetString()!)];
        Assert.Equal(["boot.mode", "boot.loader", "fstab.devices", "boot.root", "boot.kernel", "drivers.virtio", "network.config", "disk.limits"], ids);
        Assert.All(checks.EnumerateArray(), c =>
        {
            Assert.Contains(c.GetProperty("status").GetString(), new[] { "pass", "warn" });
            Assert.False(string.IsNullOrEmpty(c.GetProperty("message").GetString()));
            Assert.True(c.TryGetProperty("fix", out _));
        });
        Assert.Equal("BIOS: the boot disk has no EFI system partition.", checks[0].GetProperty("message").GetString());
        long inUse = report.RootElement.GetProperty("estimate").GetProperty("inUseBytes").GetInt64();
        Assert.InRange(inUse, 300_000, new FileInfo(fs).Length);
    }

    [Fact]
    public void DeviceNamesInFstabAndGrub_FailWithTheFix_AndFixRewritesThemByUuid_WithBackups()
    {
        var sample = new BootSample { FstabSpec = "/dev/sda2", RootArgument = "/dev/sda2" };
        string root = Mount(BootSample.BuildFileSystem(_dir.Path, sample.BuildTree(_dir.Path)));

        (int exit, string output) = Check(root, [], json: true);
        Assert.Equal(9, exit);
        Assert.Equal(("fail", "fail"), (Status(output, "fstab.devices"), Status(output, "boot.root")));
        Assert.Contains("/dev/sda2", Finding(output, "fstab.devices").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("check --fix", Finding(output, "fstab.devices").GetProperty("fix").GetString(), StringComparison.Ordinal);

        (exit, output) = Check(root, [], json: true, fix: true);

        Assert.True(exit == 0, output);
        Assert.Equal(("pass", "pass"), (Status(output, "fstab.devices"), Status(output, "boot.root")));
        string fstab = File.ReadAllText(Path.Combine(root, "etc/fstab"));
        Assert.Contains($"UUID={BootSample.RootUuid} / ext4 errors=remount-ro 0 1", fstab, StringComparison.Ordinal);
        Assert.DoesNotContain("/dev/sda2", fstab, StringComparison.Ordinal);
        Assert.Contains($"root=UUID={BootSample.RootUuid} ro quiet", File.ReadAllText(Path.Combine(root, "boot/grub/grub.cfg")), StringComparison.Ordinal);
        Assert.Contains("GRUB_DISABLE_LINUX_UUID=false", File.ReadAllText(Path.Combine(root, "etc/default/grub")), StringComparison.Ordinal);

        // Every changed file has its backup, holding what was there before.
        string fstabBackup = Assert.Single(Directory.GetFiles(Path.Combine(root, "etc"), "fstab.smc-backup-*"));
        Assert.Contains("/dev/sda2 / ext4", File.ReadAllText(fstabBackup), StringComparison.Ordinal);
        string grubBackup = Assert.Single(Directory.GetFiles(Path.Combine(root, "boot/grub"), "grub.cfg.smc-backup-*"));
        Assert.Contains("root=/dev/sda2", File.ReadAllText(grubBackup), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(root, "etc/default"), "grub.smc-backup-*"));
        using JsonDocument document = JsonDocument.Parse(output);
        Assert.Equal(2, document.RootElement.GetProperty("fixes").GetArrayLength());
    }

    [Fact]
    public void AnInitramfsWithoutVirtio_FailsNamingThem_AndFixListsThemForTheInitramfsTool()
    {
        var sample = new BootSample { InInitramfs = ["virtio_pci"] };
        string root = Mount(BootSample.BuildFileSystem(_dir.Path, sample.BuildTree(_dir.Path)));

        (int exit, string output) = Check(root, [], json: true);
        Assert.Equal(9, exit);
        Assert.Equal("fail", Status(output, "drivers.virtio"));
        Assert.Contains("virtio_blk, virtio_scsi, virtio_net", Finding(output, "drivers.virtio").GetProperty("message").GetString(), StringComparison.Ordinal);

        (exit, output) = Check(root, [], json: true, fix: true);

        // The drivers are listed where initramfs-tools reads them; this tree has no update-initramfs to rebuild with, so
        // the fix says so and the check still fails (a real Debian tree rebuilds under chroot).
        string[] modules = File.ReadAllLines(Path.Combine(root, "etc/initramfs-tools/modules"));
        Assert.Equal(["virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci"], modules.Where(l => l.StartsWith("virtio", StringComparison.Ordinal)));
        using JsonDocument document = JsonDocument.Parse(output);
        JsonElement fix = Assert.Single(document.RootElement.GetProperty("fixes").EnumerateArray());
        Assert.Equal("drivers.virtio", fix.GetProperty("id").GetString());
        Assert.False(fix.GetProperty("applied").GetBoolean());
        Assert.Contains("update-initramfs -u -k " + BootSample.Version, fix.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(9, exit);
    }

    [Fact]
    public void ABootDiskWithoutABootLoader_Fails()
    {
        var sample = new BootSample { Grub = false };
        string fs = BootSample.BuildFileSystem(_dir.Path, sample.BuildTree(_dir.Path));
        string root = Mount(fs);

        (int exit, string output) = Check(root, [sample.BuildDisk(_dir.Path, fs)], json: true);

        Assert.Equal(9, exit);
        Assert.Equal("fail", Status(output, "boot.loader"));
        Assert.Contains("grub-install", Finding(output, "boot.loader").GetProperty("fix").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void StaticAddressesAndMacBoundNames_Warn_InEachConfigurationStyle()
    {
        string tree = new BootSample().BuildTree(_dir.Path);
        Write(tree, "etc/network/interfaces", "auto lo\niface lo inet loopback\nauto ens3\niface ens3 inet static\n  address 10.0.0.5/24\n");
        Write(tree, "etc/netplan/50-cloud.yaml", "network:\n  ethernets:\n    eth0:\n      match:\n        macaddress: 52:54:00:12:34:56\n      addresses:\n        - 192.168.1.10/24\n      nameservers:\n        addresses: [8.8.8.8]\n");
        Write(tree, "etc/udev/rules.d/70-persistent-net.rules", "SUBSYSTEM==\"net\", ATTR{address}==\"52:54:00:12:34:56\", NAME=\"eth0\"\n");
        Write(tree, "etc/sysconfig/network-scripts/ifcfg-eth0", "BOOTPROTO=dhcp\nHWADDR=52:54:00:12:34:56\n");

        (_, string output) = Check(tree, [], json: true);

        Assert.Equal("warn", Status(output, "network.config"));
        string message = Finding(output, "network.config").GetProperty("message").GetString()!;
        foreach (string expected in new[] { "interfaces: ens3 has a static address", "50-cloud.yaml: a static address", "50-cloud.yaml: an interface matched by MAC address", "70-persistent-net.rules", "ifcfg-eth0: bound to a MAC address", "cloud-init is not installed" })
        {
            Assert.Contains(expected, message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("ifcfg-eth0: a static address", message, StringComparison.Ordinal);

        // A DHCP-only configuration with cloud-init passes.
        string clean = new BootSample().BuildTree(_dir.Path);
        Write(clean, "etc/netplan/50-cloud.yaml", "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n      nameservers:\n        addresses: [8.8.8.8]\n");
        Write(clean, "etc/cloud/cloud.cfg", "datasource_list: [ AliYun ]\n");
        (_, output) = Check(clean, [], json: true);
        Assert.Equal("pass", Status(output, "network.config"));
    }

    [Fact]
    public void DiskImages_AreCheckedFromTheirOwnBytes_AndOneWithoutLinuxOnlyWarns()
    {
        var sample = new BootSample { FstabSpec = "/dev/sda2", InInitramfs = ["virtio_pci"] };
        string disk = sample.BuildDisk(_dir.Path, BootSample.BuildFileSystem(_dir.Path, sample.BuildTree(_dir.Path)));

        (int exit, string output) = Check(null, [disk], json: true);

        Assert.Equal(9, exit);
        Assert.Equal(("pass", "fail", "pass", "fail"), (Status(output, "boot.loader"), Status(output, "fstab.devices"), Status(output, "boot.root"), Status(output, "drivers.virtio")));

        // A disk of data (an ext4 file system without /etc/fstab, no boot code): nothing to boot, nothing failed.
        string data = Path.Combine(_dir.Path, "data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "readme.txt"), "data");
        string dataDisk = new BootSample { Grub = false }.BuildDisk(_dir.Path, BootSample.BuildFileSystem(_dir.Path, data));
        (exit, output) = Check(null, [dataDisk], json: true);
        Assert.Equal(0, exit);
        Assert.Equal(("warn", "warn"), (Status(output, "boot.loader"), Status(output, "boot.root")));
        Assert.Contains("holds /etc/fstab", Finding(output, "boot.root").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheTable_ShowsEachFindingAndItsFix()
    {
        string root = Mount(BootSample.BuildFileSystem(_dir.Path, new BootSample { FstabSpec = "/dev/sda2" }.BuildTree(_dir.Path)));

        (int exit, string output) = Check(root, [], json: false);

        Assert.Equal(9, exit);
        Assert.Contains("fstab.devices", output, StringComparison.Ordinal);
        Assert.Contains("Result: fail", output, StringComparison.Ordinal);
    }

    private static (int Exit, string Output) Check(string? root, string[] disks, bool json, bool fix = false)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        IAnsiConsole errorConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(errors), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 400;
        int exit = CheckCommand.Run(root, disks, json, fix, console, errorConsole);
        return (exit, output.ToString());
    }

    private static JsonElement Finding(string report, string id)
    {
        using JsonDocument document = JsonDocument.Parse(report);
        return document.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id).Clone();
    }

    private static string Status(string report, string id) => Finding(report, id).GetProperty("status").GetString()!;

    private static void Write(string tree, string path, string text)
    {
        string full = Path.Combine(tree, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    /// <summary>The file system image on a loop device, mounted under the scratch directory; unmounted and detached on dispose.</summary>
    private string Mount(string image)
    {
        string device = Tool.Run("losetup", "-f", "--show", image).Trim();
        _cleanup.Add(() => Tool.Run("losetup", "-d", device));
        string mount = Path.Combine(_dir.Path, "mnt-" + Path.GetFileNameWithoutExtension(image));
        Directory.CreateDirectory(mount);
        Tool.Run("mount", device, mount);
        _cleanup.Add(() => Tool.Run("umount", mount));
        return mount;
    }
}
