namespace Smc.Core.Api;

public sealed class CreateAccessTokenRequest
{
    public string? Name { get; init; }

    public int? Count { get; init; }

    public int? TimeToLiveInDays { get; init; }
}
