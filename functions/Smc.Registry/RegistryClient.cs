using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace Smc.Registry;

/// <summary>
/// An OCI Distribution (registry API v2) push client: blob existence (HEAD), cross-repository mount, chunked uploads
/// (PATCH with Content-Range, then PUT with the digest) that resume after a registry restart from the range the
/// registry reports for the session (or start over when it lost the session), and manifests. Auth as the registry asks
/// in its <c>WWW-Authenticate</c> challenge: none, Basic, or Bearer (a token from the challenge's realm for the
/// repository's pull/push scope, cached per scope). Hand-written: no OCI/ORAS client package is served here.
/// </summary>
public sealed partial class RegistryClient
{
    public const int DefaultChunkSize = 8 << 20;

    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly RegistryCredentials? _credentials;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly ResiliencePipeline _retry;
    private readonly Func<Uri, bool> _realmAllowed;
    private readonly int _recoveryAttempts;
    private readonly TimeSpan _firstDelay;
    private volatile bool _basic;

    /// <param name="registry">The registry's base address, e.g. <c>http://127.0.0.1:5000</c> or <c>https://registry.example</c>.</param>
    /// <param name="recoveryAttempts">How many times a request is retried while the registry is unreachable or answers 5xx.</param>
    /// <param name="realmAllowed">
    /// Whether a Bearer challenge's token endpoint may be sent the login; by default only one on the registry's own host,
    /// over https (or http when the registry itself is plain HTTP). A realm elsewhere is refused before any request.
    /// </param>
    public RegistryClient(HttpClient http, Uri registry, RegistryCredentials? credentials = null, int recoveryAttempts = 12, TimeSpan? firstDelay = null, Func<Uri, bool>? realmAllowed = null)
    {
        _http = http;
        _base = registry;
        _credentials = credentials;
        _realmAllowed = realmAllowed ?? (realm => new RegistryAllowList(new RegistryOptions()).AllowsRealm(registry, realm));
        _recoveryAttempts = recoveryAttempts;
        _firstDelay = firstDelay ?? TimeSpan.FromMilliseconds(250);
        _retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = recoveryAttempts,
            BackoffType = DelayBackoffType.Exponential,
            Delay = _firstDelay,
            MaxDelay = MaxDelay,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<RegistryException>(e => !e.UserError),
        }).Build();
    }

    /// <summary>The longest wait between two attempts.</summary>
    public static TimeSpan MaxDelay { get; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one blob's upload may go without a chunk accepted before it ends with <c>PUSH_STALLED</c>, whatever the attempts left.</summary>
    public TimeSpan StallLimit { get; init; } = TimeSpan.FromMinutes(10);

    public PushStats Stats { get; } = new();

    public static string DigestOf(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    public async Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken cancellationToken = default) =>
        await _retry.ExecuteAsync(async ct =>
        {
            using HttpResponseMessage response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, Url($"/v2/{repository}/blobs/{digest}")), Scope(repository), ct);
            return response.StatusCode switch
            {
                HttpStatusCode.OK => true,
                HttpStatusCode.NotFound => false,
                _ => throw await ErrorAsync(response, ct),
            };
        }, cancellationToken);

    /// <summary>Mounts a blob of another repository of the same registry (no bytes move); false when the registry won't.</summary>
    public async Task<bool> MountAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken = default) =>
        await _retry.ExecuteAsync(async ct =>
        {
            using HttpResponseMessage response = await SendAsync(
                () => new HttpRequestMessage(HttpMethod.Post, Url($"/v2/{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(fromRepository)}")),
                Scope(repository) + " " + $"repository:{fromRepository}:pull", ct);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                Stats.AddMounted();
                return true;
            }

            if (response.StatusCode == HttpStatusCode.Accepted && response.Headers.Location is { } session)
            {
                // The registry opened an upload instead: not needed, close it.
                using HttpResponseMessage _ = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, Resolve(session.ToString())), Scope(repository), ct);
                return false;
            }

            throw await ErrorAsync(response, ct);
        }, cancellationToken);

    /// <summary>Pushes a small blob (a config) from memory; returns its digest.</summary>
    public async Task<string> PushBlobAsync(string repository, byte[] content, CancellationToken cancellationToken = default)
    {
        string digest = DigestOf(content);
        await PushBlobAsync(repository, digest, content.Length, (offset, buffer, _) =>
        {
            int n = (int)Math.Min(buffer.Length, content.Length - offset);
            content.AsMemory((int)offset, n).CopyTo(buffer);
            return ValueTask.FromResult(n);
        }, cancellationToken: cancellationToken);
        return digest;
    }

    /// <summary>
    /// Pushes a blob unless the repository has it: chunks of <paramref name="chunkSize"/> read with
    /// <paramref name="read"/>(offset, buffer) (called again for a range the registry lost), then the digest check.
    /// </summary>
    public async Task PushBlobAsync(string repository, string digest, long size, Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read,
        int chunkSize = DefaultChunkSize, CancellationToken cancellationToken = default)
    {
        if (await BlobExistsAsync(repository, digest, cancellationToken))
        {
            Stats.AddSkipped();
            return;
        }

        string location = await StartUploadAsync(repository, cancellationToken);
        long offset = 0;
        byte[] buffer = new byte[(int)Math.Min(chunkSize, Math.Max(1, size))];
        var stalls = new StallGuard(this);
        while (offset < size)
        {
            int n = await ReadFullyAsync(read, offset, buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - offset)), cancellationToken);
            try
            {
                location = await PatchAsync(repository, location, offset, buffer.AsMemory(0, n), cancellationToken);
                offset += n;
                Stats.AddBytes(n);
                stalls.Progressed();
            }
            catch (Exception e) when (Recoverable(e, cancellationToken))
            {
                // The registry restarted or failed mid-chunk: continue from what it has for the session, or start over —
                // a bounded number of times in a row (a registry that fails every PATCH ends the push, not loops it).
                await stalls.FailedAsync(e, offset, cancellationToken);
                (location, offset) = await RecoverAsync(repository, location, e, cancellationToken);
                Stats.AddResumed();
            }
        }

        await CompleteAsync(repository, location, digest, cancellationToken);
        Stats.AddSent();
    }

    private static bool Recoverable(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && (e is HttpRequestException or TaskCanceledException || (e is RegistryException r && (!r.UserError || r.Status == 416)));

    /// <summary>Ends an upload: the PUT with the digest, which the registry checks against what it received.</summary>
    private async Task CompleteAsync(string repository, string location, string digest, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async ct =>
        {
            string final = location + (location.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest);
            using HttpResponseMessage response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, Resolve(final)) { Content = new ByteArrayContent([]) }, Scope(repository), ct);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw await ErrorAsync(response, ct);
            }
        }, cancellationToken);

    /// <summary>
    /// Pushes a blob whose digest is known only once it has been read (a layer compressed on the fly): chunks from the
    /// stream <paramref name="open"/> gives, hashed as they go, the digest sent with the last request. After a failure the
    /// upload continues from the range the registry kept: the stream is opened again (it must give the same bytes) and
    /// read up to there, hashing without sending.
    /// </summary>
    /// <returns>The blob's digest and size.</returns>
    public async Task<(string Digest, long Size)> PushStreamAsync(string repository, Func<CancellationToken, Task<Stream>> open,
        int chunkSize = DefaultChunkSize, CancellationToken cancellationToken = default)
    {
        string location = await StartUploadAsync(repository, cancellationToken);
        byte[] buffer = new byte[chunkSize];
        long resumeAt = 0;
        var stalls = new StallGuard(this);
        while (true)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long offset = 0;
            bool interrupted = false;
            await using (Stream source = await open(cancellationToken))
            {
                // Again after a failure: the bytes the registry kept are read and hashed, not sent.
                while (offset < resumeAt)
                {
                    int skip = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, resumeAt - offset)), cancellationToken);
                    if (skip == 0)
                    {
                        throw new InvalidDataException($"The blob's stream ended at {offset} bytes, before the {resumeAt} the registry kept: it is not the same stream.");
                    }

                    hash.AppendData(buffer, 0, skip);
                    offset += skip;
                }

                while (!interrupted)
                {
                    int n = await FillAsync(source, buffer, cancellationToken);
                    if (n == 0)
                    {
                        break;
                    }

                    try
                    {
                        location = await PatchAsync(repository, location, offset, buffer.AsMemory(0, n), cancellationToken);
                        hash.AppendData(buffer, 0, n);
                        offset += n;
                        Stats.AddBytes(n);
                        stalls.Progressed();
                    }
                    catch (Exception e) when (Recoverable(e, cancellationToken))
                    {
                        await stalls.FailedAsync(e, offset, cancellationToken);
                        (location, resumeAt) = await RecoverAsync(repository, location, e, cancellationToken);
                        Stats.AddResumed();
                        interrupted = true;
                    }
                }
            }

            if (interrupted)
            {
                continue;
            }

            string digest = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
            await CompleteAsync(repository, location, digest, cancellationToken);
            Stats.AddSent();
            return (digest, offset);
        }
    }

    private static async Task<int> FillAsync(Stream source, byte[] buffer, CancellationToken ct)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await source.ReadAsync(buffer.AsMemory(total), ct);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    /// <summary>Puts a manifest under a tag (or digest); returns the manifest's digest.</summary>
    public async Task<string> PutManifestAsync(string repository, string reference, string mediaType, byte[] manifest, CancellationToken cancellationToken = default) =>
        await _retry.ExecuteAsync(async ct =>
        {
            using HttpResponseMessage response = await SendAsync(() =>
            {
                var content = new ByteArrayContent(manifest);
                content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
                return new HttpRequestMessage(HttpMethod.Put, Url($"/v2/{repository}/manifests/{reference}")) { Content = content };
            }, Scope(repository), ct);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw await ErrorAsync(response, ct);
            }

            return response.Headers.TryGetValues("Docker-Content-Digest", out IEnumerable<string>? d) ? d.First() : DigestOf(manifest);
        }, cancellationToken);

    /// <summary>A manifest by tag or digest, or null when the repository has none.</summary>
    public async Task<(string MediaType, byte[] Body)?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default) =>
        await _retry.ExecuteAsync<(string, byte[])?>(async ct =>
        {
            using HttpResponseMessage response = await SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, Url($"/v2/{repository}/manifests/{reference}"));
                request.Headers.Accept.ParseAdd(OciMediaTypes.ImageManifest);
                request.Headers.Accept.ParseAdd(OciMediaTypes.DockerManifest);
                return request;
            }, Scope(repository, push: false), ct);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw await ErrorAsync(response, ct);
            }

            return (response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsByteArrayAsync(ct));
        }, cancellationToken);

    /// <summary>
    /// Deletes a manifest by digest (and with it the tags that name it; its blobs stay while other manifests use them).
    /// True when it is gone (or was); false when the registry doesn't allow deletes (405, or a login without delete).
    /// </summary>
    public async Task<bool> DeleteManifestAsync(string repository, string digest, CancellationToken cancellationToken = default) =>
        await _retry.ExecuteAsync(async ct =>
        {
            using HttpResponseMessage response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, Url($"/v2/{repository}/manifests/{digest}")),
                $"repository:{repository}:pull,push,delete", ct);
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound)
            {
                return true;
            }

            if (response.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                return false;
            }

            throw await ErrorAsync(response, ct);
        }, cancellationToken);

    private static string Scope(string repository, bool push = true) => $"repository:{repository}:{(push ? "pull,push" : "pull")}";

    private Uri Url(string path) => new(_base, path);

    private Uri Resolve(string location) => Uri.TryCreate(location, UriKind.Absolute, out Uri? absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal) ? absolute : new Uri(_base, location);

    private static async Task<RegistryException> ErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        string text = response.Content is null ? "" : await response.Content.ReadAsStringAsync(ct);
        string code = $"HTTP{(int)response.StatusCode}", message = text.Length > 0 ? text : response.ReasonPhrase ?? "";
        try
        {
            using JsonDocument body = JsonDocument.Parse(text);
            if (body.RootElement.TryGetProperty("errors", out JsonElement errors) && errors.GetArrayLength() > 0)
            {
                code = errors[0].GetProperty("code").GetString() ?? code;
                message = errors[0].TryGetProperty("message", out JsonElement m) ? m.GetString() ?? message : message;
            }
        }
        catch (JsonException)
        {
        }

        return new RegistryException((int)response.StatusCode, code, message);
    }
}
