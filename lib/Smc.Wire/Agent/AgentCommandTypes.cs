namespace Smc.Wire.Agent;

public static class AgentCommandTypes
{
    /// <summary>Copy the listed disks as one round into the job's staging area and commit it.</summary>
    public const string Replicate = "Replicate";
}
