using Smc.Wire.Boot;

namespace Smc.Core.Domain;

/// <summary>Whether an image will boot on the target, as <see cref="Images.BootInspector"/> read it from the image's bytes.</summary>
public sealed class BootReadiness
{
    public List<BootCheck> Checks { get; init; } = [];

    /// <summary><c>fail</c> when any check failed, else <c>warn</c> when any warned, else <c>pass</c>.</summary>
    public string Status => BootCheck.Worst(Checks);

    /// <summary><c>UEFI</c> or <c>BIOS</c>.</summary>
    public string? BootMode { get; init; }

    /// <summary>The kernel the boot loader starts (a file name in /boot), when found.</summary>
    public string? Kernel { get; init; }

    /// <summary>The distribution (os-release's PRETTY_NAME), when found.</summary>
    public string? OsName { get; init; }

    /// <summary>What ECS's ImportImage calls it (<c>Debian</c>, <c>Ubuntu</c>, <c>CentOS</c>…; <c>Others Linux</c> when not on its list).</summary>
    public string? Platform { get; init; }

    /// <summary>Its initramfs, when found.</summary>
    public string? Initramfs { get; init; }
}
