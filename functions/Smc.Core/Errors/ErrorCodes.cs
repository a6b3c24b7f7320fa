namespace Smc.Core.Errors;

/// <summary>
/// Every error code the API and job records use. Codes are part of the product contract (docs/api.md, "Error codes"):
/// never rename one; add new ones.
/// </summary>
public static class ErrorCodes
{
    public const string MalformedJson = "InvalidParameter.MalformedJson";
    public const string UnknownField = "InvalidParameter.UnknownField";
    public const string MissingParameter = "MissingParameter";
    public const string InvalidName = "InvalidParameter.Name";
    public const string InvalidDescription = "InvalidParameter.Description";
    public const string InvalidCount = "InvalidParameter.Count";
    public const string InvalidTimeToLive = "InvalidParameter.TimeToLiveInDays";
    public const string InvalidPageSize = "InvalidParameter.PageSize";
    public const string InvalidPageNumber = "InvalidParameter.PageNumber";
    public const string InvalidState = "InvalidParameter.State";
    public const string InvalidStatus = "InvalidParameter.Status";
    public const string InvalidTargetType = "InvalidParameter.TargetType";
    public const string InvalidImageProvider = "InvalidParameter.ImageProvider";
    public const string AlibabaNotConfigured = "Alibaba.NotConfigured";

    /// <summary>The registry lost a layer earlier rounds pushed (the next round pushes the whole tree anew).</summary>
    public const string RegistryBaseLost = "Registry.BaseLayerMissing";
    public const string InvalidLaunch = "InvalidParameter.Launch";
    public const string InvalidFrequency = "InvalidParameter.Frequency";
    public const string InvalidMaxNumberOfImageToKeep = "InvalidParameter.MaxNumberOfImageToKeep";
    public const string InvalidSystemDiskSize = "InvalidParameter.SystemDiskSize";
    public const string InvalidSystemDiskParts = "InvalidParameter.SystemDiskParts";
    public const string InvalidDataDisks = "InvalidParameter.DataDisks";
    public const string InvalidScheduledStartTime = "InvalidParameter.ScheduledStartTime";
    public const string InvalidValidTime = "InvalidParameter.ValidTime";
    public const string JobExpired = "Expired.ValidTime";
    public const string InvalidReplicationParameters = "InvalidParameter.ReplicationParameters";
    public const string InvalidContainer = "InvalidParameter.Container";
    public const string InvalidContainerRegistry = "InvalidParameter.ContainerRegistry";
    public const string RegistryNotAllowed = "Forbidden.ContainerRegistry";
    public const string InvalidBatch = "InvalidParameter.Batch";
    public const string InvalidImageName = "InvalidParameter.ImageName";
    public const string InvalidRegionId = "InvalidParameter.RegionId";
    public const string InvalidClientToken = "InvalidParameter.ClientToken";
    public const string InvalidAgentInfo = "InvalidParameter.AgentInfo";
    public const string InvalidPlatform = "InvalidParameter.Platform";
    public const string ReadOnlyField = "InvalidParameter.ReadOnlyField";

    public const string AccessTokenNotFound = "InvalidAccessTokenId.NotFound";
    public const string SourceNotFound = "InvalidSourceId.NotFound";
    public const string JobNotFound = "InvalidJobId.NotFound";
    public const string ImageNotFound = "InvalidImageId.NotFound";
    public const string RouteNotFound = "InvalidRoute.NotFound";
    public const string MethodNotAllowed = "InvalidRoute.MethodNotAllowed";

    public const string ActivationCodeInvalid = "InvalidActivationCode";
    public const string ActivationCodeDisabled = "InvalidActivationCode.Disabled";
    public const string ActivationCodeExpired = "InvalidActivationCode.Expired";
    public const string ActivationCodeUsedUp = "InvalidActivationCode.UsedUp";

    public const string OperatorKeyMissing = "Unauthorized.OperatorKey";
    public const string AgentCredentialMissing = "Unauthorized.AgentCredential";
    public const string WrongCredentialKind = "Forbidden.CredentialKind";

    public const string JobStatusDenied = "OperationDenied.JobStatus";
    public const string SourceStatusDenied = "OperationDenied.SourceStatus";
    public const string SourceInUse = "OperationDenied.SourceInUse";
    public const string SourceHasJob = "OperationDenied.SourceHasUnfinishedJob";
    public const string ConcurrentUpdate = "OperationConflict.ConcurrentUpdate";
    public const string ClientTokenReused = "IdempotentParameterMismatch";
    public const string PackageNotFound = "InvalidAgentPackage.NotFound";
    public const string PackageInvalid = "InvalidAgentPackage";
    public const string InsecureServerUrl = "OperationDenied.InsecureServerUrl";

    public const string RoundNotExpected = "OperationDenied.Round";
    public const string RoundNotFound = "InvalidRound.NotFound";
    public const string CommitMissing = "InvalidCommit.MarkerMissing";
    public const string CommitMismatch = "InvalidCommit.ManifestMismatch";
    public const string CommitTooLarge = "StagingIntegrity.CommitTooLarge";
    public const string InvalidFailure = "InvalidParameter.Failure";
    public const string InvalidDiskIndex = "InvalidParameter.DiskIndex";
    public const string InvalidFormat = "InvalidParameter.Format";
    public const string InternalError = "InternalError";
    public const string StepFailed = "InternalError.StepFailed";
    public const string StorageUnavailable = "ServiceUnavailable.Storage";
}
