namespace Smc.Wire.Agent;

/// <summary>Names shared by the agent and the control plane for the agent-only routes.</summary>
public static class AgentApi
{
    /// <summary>Version of the agent routes' shapes; sent as header <c>x-smc-agent-api</c>.</summary>
    public const int Version = 1;

    public const string VersionHeader = "x-smc-agent-api";

    public const string RegisterPath = "api/v1/agent/register";
    public const string HeartbeatPath = "api/v1/agent/heartbeat";
    public const string PreflightPath = "api/v1/agent/preflight";
    public const string StagingProbePath = "api/v1/agent/staging-probe";
    public const string CommandsPath = "api/v1/agent/commands";
    public const string InstallScriptPath = "api/v1/agent/install.sh";
    public const string DownloadPathPrefix = "api/v1/agent/download/";

    public static string StagingCredentialsPath(string jobId) => $"api/v1/agent/jobs/{jobId}/staging-credentials";

    public static string CommitPath(string jobId, int round) => $"api/v1/agent/jobs/{jobId}/rounds/{round}/commit";

    /// <summary>GET: the committed round's chunk fingerprints, for an agent that lost its local copy.</summary>
    public static string FingerprintsPath(string jobId, int round) => $"api/v1/agent/jobs/{jobId}/rounds/{round}/fingerprints";

    /// <summary>The tree listing of a committed file-level round (Smc.Files TreeListing JSON), for an agent that lost its own.</summary>
    public static string ListingPath(string jobId, int round) => $"api/v1/agent/jobs/{jobId}/rounds/{round}/listing";

    public static string FailurePath(string jobId, int round) => $"api/v1/agent/jobs/{jobId}/rounds/{round}/failure";

    public static string ProgressPath(string jobId) => $"api/v1/agent/jobs/{jobId}/progress";

    public const string JobsPath = "api/v1/agent/jobs";

    public static string JobPath(string jobId) => $"api/v1/agent/jobs/{jobId}";
}
