namespace Smc.Core.Domain;

public static class AccessTokenStatus
{
    public const string Active = "Active";
    public const string Disabled = "Disabled";
    public const string Expired = "Expired";
    public const string UsedUp = "UsedUp";
}
