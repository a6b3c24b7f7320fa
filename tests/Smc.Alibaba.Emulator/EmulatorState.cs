using System.Collections.Concurrent;

namespace Smc.Alibaba.Emulator;

/// <summary>What the emulated cloud knows: accounts, used nonces, and faults queued by a test.</summary>
public sealed class EmulatorState
{
    /// <summary>AccessKeyId → AccessKeySecret.</summary>
    public ConcurrentDictionary<string, string> Accounts { get; } = new(StringComparer.Ordinal);

    /// <summary>Nonces seen within the timestamp window (a reuse is refused with <c>SignatureNonceUsed</c>).</summary>
    public ConcurrentDictionary<string, DateTimeOffset> Nonces { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Faults for the next requests, in order: <c>Throttling</c> (400 + x-acs-retry-after) or <c>InternalError</c> (500);
    /// <c>InternalError@ImportImage</c> waits for the next call of that action.
    /// </summary>
    public ConcurrentQueue<string> Faults { get; } = new();

    /// <summary>Requests that passed authentication, by action (a test counts retries with it).</summary>
    public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    /// <summary>How far a request's timestamp may be from the emulator's clock.</summary>
    public TimeSpan AllowedSkew { get; set; } = TimeSpan.FromMinutes(15);

    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Whether the RAM role AliyunECSImageImportDefaultRole exists (else ImportImage: NoSetRoletoECSServiceAcount).</summary>
    public bool RamRoleAuthorized { get; set; } = true;

    /// <summary>OSS buckets (name → region) and objects (<c>bucket/key</c> → bytes) ImportImage can read.</summary>
    public ConcurrentDictionary<string, string> OssBuckets { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, byte[]> OssObjects { get; } = new(StringComparer.Ordinal);

    /// <summary>Polls an import takes to end; imports started while <see cref="FailImports"/> is set end CreateFailed.</summary>
    public int ImportPolls { get; set; } = 3;

    public bool FailImports { get; set; }

    /// <summary>OSS operations to fail once each with a 500, in order (e.g. <c>UploadPart</c>).</summary>
    public ConcurrentQueue<string> OssFaults { get; } = new();

    /// <summary>Parts per ListParts page at most (OSS: 1000); a test lowers it to make the client follow pages.</summary>
    public int ListPartsPageLimit { get; set; } = 1000;

    /// <summary>Stored parts by <c>bucket/key#number</c>, and how often each was stored (a resumed upload sends a part once).</summary>
    public ConcurrentDictionary<string, int> PartUploads { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// When set, UploadPart requests after this many stored parts wait for <see cref="ReleaseParts"/> (and store nothing
    /// if their client went away meanwhile): a test kills the control plane mid-upload at a known point.
    /// </summary>
    public int? HoldPartsAfter { get; set; }

    /// <summary>Completes when the first request is held by <see cref="HoldPartsAfter"/>.</summary>
    public TaskCompletionSource PartsHeld { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal TaskCompletionSource PartGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>UploadPart requests let through while <see cref="HoldPartsAfter"/> is set.</summary>
    internal int PartsAdmitted;

    public void ReleaseParts() => PartGate.TrySetResult();

    /// <summary>Instances RunInstances started: instance id → image id.</summary>
    public ConcurrentDictionary<string, string> Instances { get; } = new(StringComparer.Ordinal);

    /// <summary>The ECS images that exist (any status), by id.</summary>
    public Func<IReadOnlyCollection<string>> ImageIds { get; internal set; } = () => [];

    /// <summary>An image's tags as ImportImage took them (Tag.N.Key/Value), in N order.</summary>
    public Func<string, IReadOnlyList<(string Key, string Value)>> ImageTags { get; internal set; } = _ => [];

    /// <summary>Multipart uploads neither completed nor aborted.</summary>
    public Func<int> OpenUploads { get; internal set; } = () => 0;

    /// <summary>Container Registry: the Enterprise instance GetAuthorizationToken knows, and the temporary login both editions hand out.</summary>
    public string AcrInstanceId { get; set; } = "cri-emulated0001";

    public string AcrUsername { get; set; } = "cr_temp_user";

    public string AcrPassword { get; set; } = "acr-token-" + Guid.NewGuid().ToString("N");
}
