using Smc.Core.Ports;

namespace Smc.Registry;

/// <summary><see cref="IContainerRegistry"/> over <see cref="RegistryClient"/>: layer (gzip while pushed), config, manifest, tags.</summary>
/// <remarks>
/// Every call checks the registry against the operator's allow-list first (a job stored before the list changed is
/// refused, not pushed), and the client sends the login only to that registry and to token servers the list allows.
/// </remarks>
public sealed class OciRegistryPusher(HttpClient http, RegistryOptions options, IRegistryLogins logins, RegistryAllowList allowed, Func<string, bool>? derivedRealm = null) : IContainerRegistry
{
    public Task<bool> DeleteAsync(string registry, string repository, string manifestDigest, CancellationToken cancellationToken = default) =>
        CallAsync(registry, client => client.DeleteManifestAsync(repository, manifestDigest, cancellationToken), cancellationToken);

    public Task<ContainerPushed> PushAsync(ContainerPush image, Func<CancellationToken, Task<Stream>> openLayerTar, CancellationToken cancellationToken = default) =>
        CallAsync(image.Registry, async client =>
        {
            foreach (ContainerLayer below in image.BaseLayers)
            {
                if (!await client.BlobExistsAsync(image.Repository, below.Digest, cancellationToken))
                {
                    throw new RegistryException(404, "BLOB_UNKNOWN",
                        $"{image.Registry}/{image.Repository} no longer has the layer {below.Digest} that earlier rounds pushed, so this round's layer (only what changed) has nothing to stand on");
                }
            }

            DateTimeOffset created = DateTimeOffset.UtcNow;
            string? diffId = null;
            (string layerDigest, long layerBytes) = await client.PushStreamAsync(image.Repository, async ct =>
            {
                var layer = new GzipLayerStream(await openLayerTar(ct));
                _ = layer.DiffId.ContinueWith(t => diffId = t.IsCompletedSuccessfully ? t.Result : diffId, TaskScheduler.Default);
                return layer;
            }, options.ChunkMiB << 20, cancellationToken);
            if (diffId is null)
            {
                throw new InvalidOperationException("The layer's diff_id is unknown after its push.");
            }

            byte[] config = OciImage.Config(OciImage.Architecture(image.Machine), "linux",
                new OciRuntime(image.Runtime.Entrypoint, image.Runtime.Cmd, image.Runtime.Env, image.Runtime.WorkingDir, image.Runtime.ExposedPorts, image.Runtime.Labels),
                [.. image.BaseLayers.Select(l => l.DiffId), diffId],
                [.. image.BaseLayers.Select(l => new OciHistory(l.Created, l.CreatedBy)), new OciHistory(created, image.History)]);
            string configDigest = await client.PushBlobAsync(image.Repository, config, cancellationToken);
            byte[] manifest = OciImage.Manifest(new OciBlob(OciMediaTypes.ImageConfig, configDigest, config.Length),
                [.. image.BaseLayers.Select(l => new OciBlob(OciMediaTypes.LayerGzip, l.Digest, l.Size)), new OciBlob(OciMediaTypes.LayerGzip, layerDigest, layerBytes)]);
            string digest = "";
            foreach (string tag in image.Tags)
            {
                digest = await client.PutManifestAsync(image.Repository, tag, OciMediaTypes.ImageManifest, manifest, cancellationToken);
            }

            return new ContainerPushed(digest, new ContainerLayer(layerDigest, layerBytes, diffId, created, image.History));
        }, cancellationToken);

    /// <summary>A client for <paramref name="registry"/> with its login (scheme from SMC_REGISTRY__INSECURE), and the registry's refusals as the port's errors.</summary>
    private async Task<T> CallAsync<T>(string registry, Func<RegistryClient, Task<T>> work, CancellationToken cancellationToken)
    {
        if (Smc.Core.Domain.RegistryHost.Normalize(registry, out _) is not { } host || !allowed.Allows(host))
        {
            throw new CloudRequestException(Smc.Core.Errors.ErrorCodes.RegistryNotAllowed, $"The registry {registry} is not one this control plane pushes to: {allowed.HowToAllow}.", true, null);
        }

        RegistryLogin? login = await logins.LoginAsync(host, cancellationToken);
        var baseUri = new Uri($"{(options.IsInsecure(host) ? "http" : "https")}://{host}");
        var client = new RegistryClient(http, baseUri, login is null ? null : new RegistryCredentials(login.Username, login.Password),
            realmAllowed: realm => allowed.AllowsRealm(baseUri, realm, derivedRealm));
        try
        {
            return await work(client);
        }
        catch (RegistryException e)
        {
            throw new CloudRequestException(e.Code, e.Message, e.UserError, null, e);
        }
        catch (HttpRequestException e)
        {
            throw new CloudRequestException("NetworkError", $"The registry {registry} can't be reached ({e.Message}).", false, null, e);
        }
    }
}

/// <summary>The login of <c>SMC_REGISTRY__USERNAME</c>/<c>PASSWORD</c> for every registry, or anonymous.</summary>
public sealed class ConfiguredRegistryLogins(RegistryOptions options) : IRegistryLogins
{
    public Task<RegistryLogin?> LoginAsync(string registry, CancellationToken cancellationToken = default) =>
        Task.FromResult(string.IsNullOrEmpty(options.Username) ? null : new RegistryLogin(options.Username, options.Password ?? ""));
}
