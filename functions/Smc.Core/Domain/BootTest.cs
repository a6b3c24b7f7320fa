namespace Smc.Core.Domain;

/// <summary>
/// Whether an image booted in a virtual machine (<c>SMC_VERIFY__QEMU</c>): <c>Booted</c> when every attempt reached
/// user space, <c>Failed</c> when one did not, <c>NotRun</c> when boot tests are off or the image gave nothing to boot.
/// A failed boot never fails the round: the image is what the source held; the console says what went wrong.
/// </summary>
public sealed class BootTest
{
    public const string Booted = "Booted", Failed = "Failed", NotRun = "NotRun";

    public string Status { get; init; } = NotRun;

    public string? Message { get; init; }

    /// <summary>Seconds the attempts took together.</summary>
    public double? Seconds { get; init; }

    /// <summary>The last lines of the serial console of the attempt that decided the status.</summary>
    public string? ConsoleTail { get; init; }

    public List<BootAttempt> Attempts { get; init; } = [];

    public DateTimeOffset TestedAt { get; init; }
}

/// <summary>
/// One boot: <c>kernel</c> (the image's own kernel, initramfs and GRUB arguments, on its own disk, with a command run by
/// systemd that proves the root and fstab mounts), or <c>firmware</c> (BIOS from the disk's own sectors: boot loader,
/// kernel, init, until the serial console's login prompt).
/// </summary>
public sealed class BootAttempt
{
    public const string Kernel = "kernel", Firmware = "firmware";

    public required string Method { get; init; }

    public required string Status { get; init; }

    public required string Message { get; init; }

    public double Seconds { get; init; }

    public string? ConsoleTail { get; init; }
}
