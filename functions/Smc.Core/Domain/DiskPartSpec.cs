namespace Smc.Core.Domain;

/// <summary>A destination partition: which source partition, its new size, and whether it is copied block by block.</summary>
public sealed class DiskPartSpec
{
    public string? Device { get; init; }

    public long SizeBytes { get; init; }

    public bool Block { get; init; } = true;
}
