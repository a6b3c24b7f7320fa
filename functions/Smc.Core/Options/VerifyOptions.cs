namespace Smc.Core.Options;

/// <summary>
/// The automatic boot test of each Image round (section <c>SMC_VERIFY__*</c>): off unless <see cref="Qemu"/> names
/// qemu (<c>qemu-system-x86_64</c>, a path, or <c>true</c> for that name on PATH). The Functions app has no qemu and
/// records <c>NotRun</c>.
/// </summary>
public sealed class VerifyOptions
{
    public string? Qemu { get; set; }

    /// <summary><c>tcg</c> (software, works everywhere; ~40 s for a Debian boot here) or <c>kvm</c> where the host has it.</summary>
    public string Accel { get; set; } = "tcg";

    /// <summary>How long one boot may take before it counts as failed.</summary>
    public int TimeoutSeconds { get; set; } = 240;

    public int MemoryMiB { get; set; } = 1024;

    /// <summary>A boot from the disk's own sectors whose console says nothing for this long, before the boot loader starts an entry, has stopped (a boot sector of zeros hangs silently).</summary>
    public int FirmwareSilenceSeconds { get; set; } = 30;

    /// <summary>The same once the boot loader has started an entry: it reads the kernel and initramfs and the kernel unpacks itself, silently (over 30 s under TCG on a loaded host).</summary>
    public int LoaderSilenceSeconds { get; set; } = 150;

    /// <summary>The UEFI firmware for images that boot with UEFI (Debian's <c>ovmf</c> package puts it here); missing, only their kernel is booted.</summary>
    public string Ovmf { get; set; } = "/usr/share/ovmf/OVMF.fd";

    /// <summary>Where the image's system disk is written for the virtual machine (removed after).</summary>
    public string? WorkDirectory { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Qemu) && Qemu is not ("false" or "0" or "off");

    public string QemuPath => Qemu is "true" or "1" or "on" ? "qemu-system-x86_64" : Qemu!;

    public void Validate()
    {
        if (Accel is not ("tcg" or "kvm"))
        {
            throw new InvalidOperationException("SMC_VERIFY__ACCEL must be tcg or kvm.");
        }

        if (TimeoutSeconds is < 10 or > 3600 || MemoryMiB is < 256 or > 65536)
        {
            throw new InvalidOperationException("SMC_VERIFY__TIMEOUTSECONDS must be 10–3600 and SMC_VERIFY__MEMORYMIB 256–65536.");
        }

        if (FirmwareSilenceSeconds is < 1 or > 3600 || LoaderSilenceSeconds is < 1 or > 3600)
        {
            throw new InvalidOperationException("SMC_VERIFY__FIRMWARESILENCESECONDS and SMC_VERIFY__LOADERSILENCESECONDS must be 1–3600.");
        }
    }
}
