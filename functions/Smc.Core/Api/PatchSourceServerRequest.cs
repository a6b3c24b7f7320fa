namespace Smc.Core.Api;

public sealed class PatchSourceServerRequest
{
    public string? Name { get; init; }

    public string? Description { get; init; }
}
