namespace Smc.Disks;

/// <summary>One attribute of an MFT record: its resident value or its non-resident sizes and mapping pairs.</summary>
internal sealed class NtfsAttribute
{
    public const uint TypeVolumeName = 0x60;
    public const uint TypeVolumeInformation = 0x70;
    public const uint TypeData = 0x80;
    public const uint TypeEnd = 0xFFFFFFFF;

    public required uint Type { get; init; }

    public required bool IsNonResident { get; init; }

    /// <summary>The value of a resident attribute; empty when non-resident.</summary>
    public byte[] ResidentValue { get; init; } = [];

    /// <summary>First VCN covered by this (non-resident) attribute extent.</summary>
    public long StartVcn { get; init; }

    /// <summary>Logical size of the attribute value in bytes.</summary>
    public long DataSize { get; init; }

    /// <summary>The raw mapping pairs of a non-resident attribute.</summary>
    public byte[] MappingPairs { get; init; } = [];
}
