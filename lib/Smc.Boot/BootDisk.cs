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
            return BootRules.Pass("boot.loader", "UEFI: the firmware starts the loader on the EFI system partition.");
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
}
