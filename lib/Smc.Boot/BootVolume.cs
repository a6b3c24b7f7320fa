namespace Smc.Boot;

/// <summary>
/// A file system the boot checks can name: a partition of an image, or a file system of the source (mounted, or
/// listed under <c>/dev/disk/by-*</c>). <see cref="Tree"/> is null when its files can't be read here.
/// </summary>
public sealed record BootVolume(string Name, string? FileSystem, string? Uuid, string? Label, string? PartUuid, IFileTree? Tree = null)
{
    /// <summary>The volume a fstab or <c>root=</c> spec names among <paramref name="volumes"/>: UUID=, LABEL=, PARTUUID=, /dev/disk/by-*; null for a device name or no match.</summary>
    public static BootVolume? Resolve(string spec, IEnumerable<BootVolume> volumes)
    {
        (string kind, string value) = spec switch
        {
            _ when spec.StartsWith("/dev/disk/by-uuid/", StringComparison.Ordinal) => ("UUID", spec[18..]),
            _ when spec.StartsWith("/dev/disk/by-label/", StringComparison.Ordinal) => ("LABEL", spec[19..]),
            _ when spec.StartsWith("/dev/disk/by-partuuid/", StringComparison.Ordinal) => ("PARTUUID", spec[22..]),
            _ when spec.Contains('=', StringComparison.Ordinal) => (spec[..spec.IndexOf('=', StringComparison.Ordinal)].ToUpperInvariant(), spec[(spec.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim('"')),
            _ => ("", ""),
        };
        return kind switch
        {
            "UUID" => volumes.FirstOrDefault(v => string.Equals(v.Uuid, value, StringComparison.OrdinalIgnoreCase)),
            "LABEL" => volumes.FirstOrDefault(v => v.Label == value),
            "PARTUUID" => volumes.FirstOrDefault(v => string.Equals(v.PartUuid, value, StringComparison.OrdinalIgnoreCase)),
            _ => null,
        };
    }

    /// <summary>A kernel device name (<c>/dev/sda2</c>, <c>/dev/vdb</c>, <c>/dev/nvme0n1p1</c>) that changes on the target, as opposed to a stable name.</summary>
    public static bool IsDeviceName(string spec) =>
        spec.StartsWith("/dev/", StringComparison.Ordinal) && !spec.StartsWith("/dev/disk/by-", StringComparison.Ordinal)
        && !spec.StartsWith("/dev/mapper/", StringComparison.Ordinal) && !spec.StartsWith("/dev/md", StringComparison.Ordinal);
}
