namespace Smc.Core.Orchestration;

public static class MigrationStage
{
    public const string Prepare = "Prepare";
    public const string Syncing = "Syncing";

    /// <summary>The round is an image; its export to the cloud (provider alibaba) is under way.</summary>
    public const string Export = "Export";
}
