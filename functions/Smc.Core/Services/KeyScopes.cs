namespace Smc.Core.Services;

/// <summary>Scopes of the unique-key index, in one place so no two features collide.</summary>
public static class KeyScopes
{
    public const string ActivationCode = AccessTokenService.CodeScope;

    /// <summary>sourceId → hash of the agent credential.</summary>
    public const string AgentCredential = "agent-credential";

    /// <summary>sourceId → the one unfinished job of that source.</summary>
    public const string SourceJob = "source-job";

    /// <summary>clientToken → jobId|request hash.</summary>
    public const string JobClientToken = "job-client-token";

    /// <summary>{action}:{jobId}:{clientToken} of a batch operation done → the status it had.</summary>
    public const string BatchReceipt = "batch-receipt";
}
