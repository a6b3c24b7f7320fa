namespace Smc.Core.Api;

public sealed class CutoverRequest
{
    /// <summary>True runs one last incremental round before finishing.</summary>
    public bool SyncData { get; init; }
}
