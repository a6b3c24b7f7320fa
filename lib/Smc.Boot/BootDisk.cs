using Smc.Disks;
using Smc.Wire.Boot;
using Smc.Wire.Inventory;

namespace Smc.Boot;

/// <summary>The boot checks read from a whole disk (an image, or a source's boot disk): its boot mode and its boot loader.</summary>
public static class BootDisk
{
    public const string EfiSystemPartition = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    public const string BiosBootPartition = "21686148-6449-6E6F-744E-656564454649";

    /// <summary>A disk with an EFI system partition boots with UEFI.</summary>
    public static bool IsUefi(DiskInfo info) =>
        info.Parts.Any(p => string.Equals(p.TypeId, EfiSystemPartition, StringComparison.OrdinalIgnoreCase) || p.TypeId == "ef");

    public static BootCheck Loader(DiskReader disk, DiskInfo info, bool uefi)
    {
        if (uefi)
        {
            return EspLoader(disk, info);
        }

        var mbr = new byte[512];
        disk.ReadAt(0, mbr);
        bool grub = mbr.AsSpan(0, 440).IndexOf("GRUB"u8) >= 0;
        bool biosBoot = info.Parts.Any(p => string.Equals(p.TypeId, BiosBootPartition, StringComparison.OrdinalIgnoreCase));
        if (!grub || mbr.AsSpan(0, 440).IndexOfAnyExcept((byte)0) < 0)
        {
            return BootRules.Fail("boot.loader", "The disk's first sector holds no boot loader (no GRUB boot code): the BIOS has nothing to start.",
                "Install GRUB on the boot disk: grub-install /dev/<disk> (on GPT with a BIOS boot partition), then update-grub.");
        }

        if (info.PartitionTable == "gpt" && !biosBoot)
        {
            return BootRules.Fail("boot.loader", "GRUB boot code in the first sector, but a GPT disk without a BIOS boot partition: its core image has nowhere to live.",
                "Add a 1 MiB BIOS boot partition (type 21686148-…) and run grub-install again, or boot with UEFI.");
        }

        return BootRules.Pass("boot.loader", info.PartitionTable == "gpt" ? "GRUB in the first sector with a BIOS boot partition." : "GRUB in the first sector (MBR).");
    }

    /// <summary>Loaders a firmware may be pointed at on an ESP (GRUB, shim, systemd-boot; x86-64 and Arm64).</summary>
    private static readonly string[] UefiLoaders = ["grubx64.efi", "shimx64.efi", "systemd-bootx64.efi", "BOOTX64.EFI", "grubaa64.efi", "shimaa64.efi", "BOOTAA64.EFI"];

    /// <summary>
    /// The UEFI loader on an EFI system partition whose root is <paramref name="espRoot"/> in <paramref name="tree"/>
    /// (<c>/boot/efi</c> on a source, <c>/</c> for an ESP read from an image). A new instance's firmware has none of this
    /// machine's NVRAM boot entries, so it starts the removable-media path <c>EFI/BOOT/BOOTX64.EFI</c>: a loader only at
    /// a vendor path (<c>EFI/debian/grubx64.efi</c>) is a warning, no loader at all a failure.
    /// </summary>
    public static BootCheck UefiLoader(IFileTree tree, string espRoot)
    {
        string efi = espRoot.TrimEnd('/') + "/EFI";
        var found = tree.List(efi).SelectMany(d => tree.List($"{efi}/{d}").Select(f => (Dir: d, File: f)))
            .Where(p => UefiLoaders.Contains(p.File, StringComparer.OrdinalIgnoreCase)).Select(p => $"{efi}/{p.Dir}/{p.File}").ToList();
        string? removable = found.FirstOrDefault(p => p.EndsWith("/BOOT/BOOTX64.EFI", StringComparison.OrdinalIgnoreCase) || p.EndsWith("/BOOT/BOOTAA64.EFI", StringComparison.OrdinalIgnoreCase));
        if (removable is not null)
        {
            return BootRules.Pass("boot.loader", $"UEFI boot loader {removable} on the EFI system partition: the removable-media path a new instance's firmware starts.");
        }

        return found.Count > 0
            ? BootRules.Warn("boot.loader", $"UEFI boot loader {found[0]}, but no {efi}/BOOT/BOOTX64.EFI: a new instance's firmware has none of this machine's NVRAM boot entries, so it starts the removable-media path, which is missing.",
                "Install the loader at the removable-media path too: grub-install --target=x86_64-efi --force-extra-removable (Debian/Ubuntu; or --removable), then check again.")
            : BootRules.Fail("boot.loader", $"No UEFI boot loader under {efi} (GRUB, shim or systemd-boot): the firmware has nothing to start.",
                "Mount the EFI system partition at /boot/efi and install the loader: grub-install --target=x86_64-efi --force-extra-removable (or bootctl install).");
    }

    /// <summary>The loader on the disk's EFI system partition, read from its bytes.</summary>
    private static BootCheck EspLoader(DiskReader disk, DiskInfo info)
    {
        PartitionInfo esp = info.Parts.First(p => string.Equals(p.TypeId, EfiSystemPartition, StringComparison.OrdinalIgnoreCase) || p.TypeId == "ef");
        try
        {
            return UefiLoader(new FatFileTree(FatFileSystem.Open(disk, esp.StartBytes, esp.SizeBytes)), "/");
        }
        catch (DiskFormatException e)
        {
            return BootRules.Warn("boot.loader", $"The EFI system partition (partition {esp.Number}) can't be read as FAT: {e.Message}", "Make the EFI system partition a FAT file system (mkfs.vfat) and reinstall the loader.");
        }
    }
}
