namespace Smc.Core.Services;

/// <summary>External events the migration orchestration waits for. Names are shipped: never rename.</summary>
public static class MigrationEvents
{
    public const string SourceAvailable = "SourceAvailable";
    public const string SyncNow = "SyncNow";
    public const string Cutover = "Cutover";
    public const string RoundCommitted = "RoundCommitted";
    public const string RoundFailed = "RoundFailed";
}
