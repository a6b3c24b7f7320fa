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
    public const string InvalidPreflight = "InvalidParameter.Preflight";
    public const string ReadOnlyField = "InvalidParameter.ReadOnlyField";

    public const string AccessTokenNotFound = "InvalidAccessTokenId.NotFound";
    public const string SourceNotFound = "InvalidSourceId.NotFound";
    public const string JobNotFound = "InvalidJobId.NotFound";
    public const string ImageNotFound = "InvalidImageId.NotFound";
    public const string TemplateNotFound = "InvalidTemplateId.NotFound";
    public const string InvalidTemplate = "InvalidParameter.Template";
    public const string InvalidTag = "InvalidParameter.Tag";
    public const string WaveNotFound = "InvalidWaveId.NotFound";
    public const string InvalidWave = "InvalidParameter.Wave";
    public const string WaveNotEmpty = "OperationDenied.WaveNotEmpty";
    public const string WaveQueued = "Wave.Queued";
    public const string InvalidImport = "InvalidParameter.Import";
    public const string AccessKeyNotFound = "InvalidAccessKeyId.NotFound";

    /// <summary>The SMC-compatible API: a parameter of the wrong kind, and one it does not cover (docs/smc-compat.md).</summary>
    public const string InvalidParameter = "InvalidParameter";
    public const string ParameterNotSupported = "InvalidParameter.NotSupported";
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
    public const string BodyTooLarge = "InvalidParameter.BodyTooLarge";
    public const string InternalError = "InternalError";

    // A job's statusInfo while it waits for its source, and a source's when its heartbeats stopped.
    public const string SourceUnavailable = "SourceUnavailable";
    public const string HeartbeatLost = "SourceUnavailable.HeartbeatLost";

    // A warning on the overview, not a failure: the round's image did not boot in its boot test.
    public const string BootTestFailed = "BootTest.Failed";

    // Failures an agent reports for a round (Smc.Wire's RoundFailureCodes, the only ones it may send).
    public const string SourceDiskReadError = Smc.Wire.Agent.RoundFailureCodes.SourceReadError;
    public const string SourceDiskUnavailable = Smc.Wire.Agent.RoundFailureCodes.SourceUnavailable;
    public const string PreFreezeHookFailed = Smc.Wire.Agent.RoundFailureCodes.PreFreezeHookFailed;

    // A round that can't go on: the job stopped meanwhile, the source has no disks, or it was deleted.
    public const string RoundJobNotRunning = "JobNotRunning";
    public const string RoundSourceNoDisks = "SourceNoDisks";
    public const string RoundSourceGone = "SourceNotFound";

    // A round whose destination sizes can't hold the source layout, or whose source table can't be read (Smc.Disks).
    public const string LayoutDiskTooSmall = Smc.Disks.DiskErrorCodes.LayoutDiskTooSmall;
    public const string LayoutShrink = Smc.Disks.DiskErrorCodes.LayoutShrink;
    public const string LayoutUnsupported = Smc.Disks.DiskErrorCodes.LayoutUnsupported;
    public const string InvalidMbr = Smc.Disks.DiskErrorCodes.InvalidMbr;
    public const string InvalidGpt = Smc.Disks.DiskErrorCodes.InvalidGpt;

    // Staging an agent wrote that fails a check: the round ends InError, nothing is made from it.
    public const string StagingIntegrityPrefix = "StagingIntegrity.";
    public const string StagingPackMissing = "StagingIntegrity.PackMissing";
    public const string StagingPackTruncated = "StagingIntegrity.PackTruncated";
    public const string StagingManifestTooLarge = "StagingIntegrity.ManifestTooLarge";
    public const string StagingManifestMissing = "StagingIntegrity.ManifestMissing";
    public const string StagingManifestChanged = "StagingIntegrity.ManifestChanged";
    public const string StagingManifestInvalid = "StagingIntegrity.ManifestInvalid";
    public const string StagingKeyUnwrapFailed = "StagingIntegrity.KeyUnwrapFailed";
    public const string StagingDiskUnknown = "StagingIntegrity.DiskUnknown";
    public const string StagingChunkOutOfBounds = "StagingIntegrity.ChunkOutOfBounds";
    public const string StagingBaseMissing = "StagingIntegrity.BaseMissing";
    public const string StagingBaseMismatch = "StagingIntegrity.BaseMismatch";

    // A chunk that fails its own check: StagingIntegrityPrefix + Smc.Transfer's ChunkErrorCodes, or ChunkHash.
    public const string StagingChunkTampered = "StagingIntegrity.ChunkTampered";
    public const string StagingChunkMismatch = "StagingIntegrity.ChunkMismatch";
    public const string StagingChunkCorrupt = "StagingIntegrity.ChunkCorrupt";
    public const string StagingChunkUnsupported = "StagingIntegrity.ChunkUnsupported";
    public const string StagingChunkHash = "StagingIntegrity.ChunkHash";

    // Export to Alibaba Cloud. A refusal by the cloud is AlibabaPrefix + the cloud's own code.
    public const string AlibabaPrefix = "Alibaba.";
    public const string AlibabaLaunchPrefix = "Alibaba.Launch.";
    public const string ExportImageMissing = "ExportImageMissing";
    public const string AlibabaInvalidRegionId = "Alibaba.InvalidRegionId";
    public const string AlibabaDiskTooLarge = "Alibaba.DiskTooLarge";
    public const string AlibabaImportFailed = "Alibaba.ImportFailed";

    // Container pushes. A refusal by the registry is RegistryPrefix + its OCI error code (UNAUTHORIZED, DENIED…).
    public const string RegistryPrefix = "Registry.";
    public const string RegistryPushStalled = "Registry.PUSH_STALLED";
    public const string RegistryTlsFailed = "Registry.TLS_FAILED";
    public const string StepFailed = "InternalError.StepFailed";
    public const string StorageUnavailable = "ServiceUnavailable.Storage";
}
