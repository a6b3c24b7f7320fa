namespace Smc.Core.Services;

/// <summary>The chunk grid the control plane asks agents for, and the grids a manifest may use (docs/adr/0004-chunk-size.md).</summary>
public static class ChunkGrid
{
    /// <summary>The grid a round is issued with.</summary>
    public const int Default = 1 << 20;

    /// <summary>Grids a manifest may use: powers of two from 64 KiB to 1 MiB.</summary>
    public const int Min = 64 << 10, Max = 1 << 20;
}
