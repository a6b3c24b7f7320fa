namespace Smc.Registry;

/// <summary>Registry access (configuration section <c>SMC_REGISTRY__*</c>).</summary>
public sealed class RegistryOptions
{
    /// <summary>Login for every registry this control plane pushes to (Basic, or what a Bearer token endpoint takes); none = anonymous.</summary>
    public string? Username { get; set; }

    /// <summary>Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Registries (host[:port], comma-separated) reached over plain HTTP, e.g. a test registry on loopback.</summary>
    public string Insecure { get; set; } = "";

    /// <summary>Chunk size of layer uploads, in MiB.</summary>
    public int ChunkMiB { get; set; } = 8;

    public bool IsInsecure(string registry) =>
        Insecure.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Contains(registry, StringComparer.OrdinalIgnoreCase);
}
