namespace Smc.Core.Ports;

/// <summary>What the image config says about running the container (from the job).</summary>
public sealed record ContainerRuntime(
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string> Cmd,
    IReadOnlyList<string> Env,
    string? WorkingDir,
    IReadOnlyList<string> ExposedPorts,
    IReadOnlyDictionary<string, string>? Labels = null);

/// <summary>A layer already in the registry: its blob (gzip) digest and size, its diff_id (the tar's digest), and its history line.</summary>
public sealed record ContainerLayer(string Digest, long Size, string DiffId, DateTimeOffset Created, string CreatedBy);

/// <summary>
/// A container image to push: the layers already pushed under it (bottom first, empty for a whole-tree layer), one new
/// layer (a tar stream), the source's machine (<c>uname -m</c>), its runtime, and the tags to set.
/// </summary>
public sealed record ContainerPush(
    string Registry,
    string Repository,
    IReadOnlyList<string> Tags,
    string? Machine,
    ContainerRuntime Runtime,
    string History,
    IReadOnlyList<ContainerLayer> BaseLayers);

/// <summary>The pushed image: its manifest digest and its new layer (the last of its layers).</summary>
public sealed record ContainerPushed(string ManifestDigest, ContainerLayer Layer);

/// <summary>
/// The registry side of <c>ContainerImage</c> jobs: a layer compressed while it is pushed (resumable), the image config,
/// the manifest under each tag. A base layer the registry no longer has is a user error (code <c>BLOB_UNKNOWN</c>). Failures the operator must fix (credentials, permissions, names) are
/// <see cref="CloudRequestException"/>s with <see cref="CloudRequestException.UserError"/> set.
/// </summary>
public interface IContainerRegistry
{
    Task<ContainerPushed> PushAsync(ContainerPush image, Func<CancellationToken, Task<Stream>> openLayerTar, CancellationToken cancellationToken = default);

    /// <summary>Removes a pushed image (its manifest and the tags naming it); false when the registry doesn't allow it.</summary>
    Task<bool> DeleteAsync(string registry, string repository, string manifestDigest, CancellationToken cancellationToken = default);
}

/// <summary>A registry login: Basic credentials, or what the registry's Bearer token endpoint takes. Temporary ones expire.</summary>
public sealed record RegistryLogin(string Username, string Password, DateTimeOffset? ExpiresAt = null)
{
    public override string ToString() => $"RegistryLogin {{ Username = {Username}, ExpiresAt = {ExpiresAt} }}";
}

/// <summary>
/// Which login to push to a registry with: the configured one, or temporary credentials from the registry's cloud
/// (Alibaba Container Registry's GetAuthorizationToken); null = anonymous. A refusal the operator must fix is a
/// <see cref="CloudRequestException"/> with <see cref="CloudRequestException.UserError"/> set.
/// </summary>
public interface IRegistryLogins
{
    Task<RegistryLogin?> LoginAsync(string registry, CancellationToken cancellationToken = default);
}

/// <summary>
/// The registries the operator lets this control plane push to (and send credentials to): jobs naming another are
/// refused, whoever creates them, and a push re-checks before it sends anything. Hosts are <c>host[:port]</c> as
/// <see cref="Smc.Core.Domain.RegistryHost.Normalize"/> gives them.
/// </summary>
public interface IRegistryAllowList
{
    bool Allows(string registry);

    /// <summary>What the operator sets to allow another registry (for error messages).</summary>
    string HowToAllow { get; }
}
