namespace Smc.Core.Ports;

/// <summary>What the image config says about running the container (from the job).</summary>
public sealed record ContainerRuntime(
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string> Cmd,
    IReadOnlyList<string> Env,
    string? WorkingDir,
    IReadOnlyList<string> ExposedPorts);

/// <summary>A container image to push: one layer (a tar stream), the source's machine (<c>uname -m</c>), its runtime, and the tags to set.</summary>
public sealed record ContainerPush(
    string Registry,
    string Repository,
    IReadOnlyList<string> Tags,
    string? Machine,
    ContainerRuntime Runtime,
    string History);

/// <summary>The pushed image: its manifest digest and its layer's digest.</summary>
public sealed record ContainerPushed(string ManifestDigest, string LayerDigest, long LayerBytes);

/// <summary>
/// The registry side of <c>ContainerImage</c> jobs: a layer compressed while it is pushed (resumable), the image config,
/// the manifest under each tag. Failures the operator must fix (credentials, permissions, names) are
/// <see cref="CloudRequestException"/>s with <see cref="CloudRequestException.UserError"/> set.
/// </summary>
public interface IContainerRegistry
{
    Task<ContainerPushed> PushAsync(ContainerPush image, Func<CancellationToken, Task<Stream>> openLayerTar, CancellationToken cancellationToken = default);
}
