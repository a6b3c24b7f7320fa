namespace Smc.Core.Orchestration;

public static class MigrationStage
{
    public const string Prepare = "Prepare";
    public const string Syncing = "Syncing";
}
