using Smc.Boot;
using Smc.Core.Domain;
using Smc.Core.Images;
using Smc.Core.Options;

namespace Smc.Core.Tests;

/// <summary>The boot tester's own verdicts that need no guest: a qemu that can't be started tests nothing (NotRun, not Failed).</summary>
public sealed class QemuBootTesterTests : IDisposable
{
    private readonly TempDir _dir = new("qemu");

    [Fact]
    public async Task AQemuThatCantBeStarted_IsNotRun_NamingTheSettingToFix()
    {
        var tester = new QemuBootTester(Microsoft.Extensions.Options.Options.Create(new VerifyOptions { Qemu = Path.Combine(_dir.Path, "no-such-qemu") }));
        var target = new BootTarget("vmlinuz", new byte[16], null, null, ["root=UUID=x", "ro"], null, SerialConsole: false);

        BootAttempt attempt = await tester.BootKernelAsync([_dir.File("disk.raw")], target, _dir.Path, CancellationToken.None);

        Assert.Equal(BootTest.NotRun, attempt.Status);
        Assert.Contains("SMC_VERIFY__QEMU", attempt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUefiDiskWithoutOvmf_IsNotRun_NamingTheSettingToFix()
    {
        var tester = new QemuBootTester(Microsoft.Extensions.Options.Options.Create(new VerifyOptions { Qemu = "true", Ovmf = Path.Combine(_dir.Path, "no-OVMF.fd") }));

        BootAttempt attempt = await tester.BootFirmwareAsync([_dir.File("disk.raw")], _dir.Path, uefi: true, CancellationToken.None);

        Assert.Equal((BootAttempt.Firmware, BootTest.NotRun), (attempt.Method, attempt.Status));
        Assert.Contains("SMC_VERIFY__OVMF", attempt.Message, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task EmergencyMode_FailsTheAttempt_NamingWhatSystemdWaitedFor()
    {
        // A stand-in for qemu that replays a console as systemd 252 writes it (the real guest does this in BootTestTests).
        string qemu = StandInQemu("""
            printf '[  OK  ] Reached target local-fs-pre.target\r\n'
            printf '[ TIME ] Timed out waiting for device dev-sda3.device - /dev/sda3.\r\n'
            printf '[DEPEND] Dependency failed for srv.mount - /srv.\r\n'
            printf '[DEPEND] Dependency failed for local-fs.target - Local File Systems.\r\n'
            printf 'You are in emergency mode. After logging in, type "journalctl -xb"\r\n'
            sleep 30
            """);
        var tester = new QemuBootTester(Microsoft.Extensions.Options.Options.Create(new VerifyOptions { Qemu = qemu }));
        var target = new BootTarget("vmlinuz", new byte[16], null, null, ["root=UUID=x", "ro"], null, SerialConsole: false);

        BootAttempt attempt = await tester.BootKernelAsync([_dir.File("disk.raw")], target, _dir.Path, CancellationToken.None);

        Assert.Equal(BootTest.Failed, attempt.Status);
        Assert.Equal("The console shows \"You are in emergency mode\" after systemd timed out waiting for dev-sda3.device; dependency failed for srv.mount - /srv; dependency failed for local-fs.target - Local File Systems.", attempt.Message);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task TheKernelAttempt_KeepsTheImagesArguments_ButSetsItsOwnConsoleAndTimeouts_AndNoRootDelay()
    {
        // A stand-in for qemu that writes the kernel command line it was given (the argument after -append) and exits.
        string seen = _dir.File("cmdline");
        string qemu = StandInQemu($$"""
            while [ $# -gt 0 ]; do [ "$1" = -append ] && printf '%s' "$2" > '{{seen}}'; shift; done
            """);
        var tester = new QemuBootTester(Microsoft.Extensions.Options.Options.Create(new VerifyOptions { Qemu = qemu }));
        var target = new BootTarget("vmlinuz", new byte[16], null, null,
            ["root=UUID=x", "ro", "quiet", "console=tty0", "rootdelay=300", "systemd.default_device_timeout_sec=900", "net.ifnames=0"], null, SerialConsole: false);

        await tester.BootKernelAsync([_dir.File("disk.raw")], target, _dir.Path, CancellationToken.None);

        string[] arguments = File.ReadAllText(seen).Split(' ');
        Assert.Equal(["root=UUID=x", "ro", "net.ifnames=0", "console=ttyS0", "panic=-1", $"systemd.default_device_timeout_sec={QemuBootTester.DeviceTimeoutSeconds}"], arguments[..6]);
        Assert.DoesNotContain(arguments, a => a.StartsWith("rootdelay=", StringComparison.Ordinal)); // initramfs-tools sleeps it out before looking for the root
        Assert.Single(arguments, a => a.StartsWith("systemd.default_device_timeout_sec=", StringComparison.Ordinal));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task AFirmwareBoot_SilentBeforeTheLoaderStartsAnEntry_FailsThere()
    {
        // A stand-in for qemu: SeaBIOS finds the disk, then nothing (a boot sector that hangs).
        BootAttempt attempt = await BootFirmwareAsync("""
            printf 'SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\nBooting from Hard Disk...\r\n'
            sleep 20
            """);

        Assert.Equal(BootTest.Failed, attempt.Status);
        Assert.Equal("The console stayed silent for 1 s after \"Booting from Hard Disk...\": the boot stopped there.", attempt.Message);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task AFirmwareBoot_MayBeSilentLonger_WhileTheLoaderReadsTheKernelAndInitramfs()
    {
        // As CI saw it: GRUB starts the entry, then loads the kernel and initramfs and the kernel unpacks, all silently,
        // for longer than the firmware's silence allows; the login prompt comes after.
        BootAttempt attempt = await BootFirmwareAsync("""
            printf 'Booting from Hard Disk...\r\nGRUB loading.\r\nWelcome to GRUB!\r\n\r\n   Booting `Debian GNU/Linux'"'"'\r\n\r\n'
            sleep 3
            printf '[    0.000000] Linux version 6.1.0-50-amd64\r\n\r\nDebian GNU/Linux 12 debian ttyS0\r\n\r\ndebian login: '
            sleep 20
            """);

        Assert.Equal(BootTest.Booted, attempt.Status);
        Assert.StartsWith("BIOS → boot loader → kernel → init: the serial console's login prompt came up", attempt.Message, StringComparison.Ordinal);
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private async Task<BootAttempt> BootFirmwareAsync(string console)
    {
        var tester = new QemuBootTester(Microsoft.Extensions.Options.Options.Create(new VerifyOptions { Qemu = StandInQemu(console), FirmwareSilenceSeconds = 1, LoaderSilenceSeconds = 60 }));
        return await tester.BootFirmwareAsync([_dir.File("disk.raw")], _dir.Path, uefi: false, CancellationToken.None);
    }

    /// <summary>An executable shell script that stands in for qemu, running <paramref name="body"/>.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private string StandInQemu(string body)
    {
        string qemu = _dir.File("qemu.sh");
        File.WriteAllText(qemu, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(qemu, (UnixFileMode)Convert.ToInt32("755", 8));
        return qemu;
    }

    public void Dispose() => _dir.Dispose();
}
