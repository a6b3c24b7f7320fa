namespace Smc.Core.Api;

public sealed class PatchSourceServerRequest
{
    public string? Name { get; init; }

    public string? Description { get; init; }

    /// <summary>Replaces the source's tags whole.</summary>
    public Dictionary<string, string>? Tags { get; init; }
}
