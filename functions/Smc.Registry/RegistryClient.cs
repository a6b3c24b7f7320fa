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

/// <summary>A registry login (basic, or the credentials a bearer-token endpoint takes).</summary>
public sealed record RegistryCredentials(string Username, string Password)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"RegistryCredentials {{ Username = {Username} }}";
}

/// <summary>What pushes through one client did: blobs sent, found already there, mounted; bytes sent; uploads resumed.</summary>
public sealed class PushStats
{
    private int _sent, _skipped, _mounted, _resumed;
    private long _bytes;

    public int Sent => _sent;

    public int Skipped => _skipped;

    public int Mounted => _mounted;

    public int Resumed => _resumed;

    public long BytesSent => Interlocked.Read(ref _bytes);

    internal void AddSent() => Interlocked.Increment(ref _sent);

    internal void AddSkipped() => Interlocked.Increment(ref _skipped);

    internal void AddMounted() => Interlocked.Increment(ref _mounted);

    internal void AddResumed() => Interlocked.Increment(ref _resumed);

    internal void AddBytes(long n) => Interlocked.Add(ref _bytes, n);
}

/// <summary>
/// An OCI Distribution (registry API v2) push client: blob existence (HEAD), cross-repository mount, chunked uploads
/// (PATCH with Content-Range, then PUT with the digest) that resume after a registry restart from the range the
/// registry reports for the session (or start over when it lost the session), and manifests. Auth as the registry asks
/// in its <c>WWW-Authenticate</c> challenge: none, Basic, or Bearer (a token from the challenge's realm for the
/// repository's pull/push scope, cached per scope). Hand-written: no OCI/ORAS client package is served here.
/// </summary>
public sealed class RegistryClient
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

    private static async Task<int> ReadFullyAsync(Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read, long offset, Memory<byte> buffer, CancellationToken ct)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await read(offset + total, buffer[total..], ct);
            if (n <= 0)
            {
                throw new EndOfStreamException($"The blob ended at {offset + total} bytes, before its size.");
            }

            total += n;
        }

        return total;
    }

    private async Task<string> StartUploadAsync(string repository, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async ct =>
        {
            using HttpResponseMessage response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, Url($"/v2/{repository}/blobs/uploads/")), Scope(repository), ct);
            if (response.StatusCode != HttpStatusCode.Accepted || response.Headers.Location is null)
            {
                throw await ErrorAsync(response, ct);
            }

            return response.Headers.Location.ToString();
        }, cancellationToken);

    private async Task<string> PatchAsync(string repository, string location, long offset, ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(() =>
        {
            var content = new ReadOnlyMemoryContent(chunk);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + chunk.Length - 1}");
            return new HttpRequestMessage(HttpMethod.Patch, Resolve(location)) { Content = content };
        }, Scope(repository), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw await ErrorAsync(response, cancellationToken);
        }

        return response.Headers.Location?.ToString() ?? location;
    }

    /// <summary>Where an upload stands after a failure: the session's next offset (from its <c>Range</c>), or a new session at 0.</summary>
    private async Task<(string Location, long Offset)> RecoverAsync(string repository, string location, Exception failure, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async ct =>
        {
            if (failure is RegistryException { Status: 416 })
            {
                // The session and this client disagree on its length: a new session, from the start.
                return (await StartUploadAsync(repository, ct), 0L);
            }

            using HttpResponseMessage status = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Resolve(location)), Scope(repository), ct);
            if (status.StatusCode == HttpStatusCode.NoContent)
            {
                long next = 0;
                if (status.Headers.TryGetValues("Range", out IEnumerable<string>? ranges) && ranges.First().Split('-') is [_, string end]
                    && long.TryParse(end, NumberStyles.None, CultureInfo.InvariantCulture, out long last))
                {
                    // "0-0" is what distribution answers for an empty session too; a chunk is never 1 byte unless the blob is.
                    next = last == 0 ? 0 : last + 1;
                }

                return (status.Headers.Location?.ToString() ?? location, next);
            }

            if (status.StatusCode == HttpStatusCode.NotFound)
            {
                return (await StartUploadAsync(repository, ct), 0L);
            }

            throw await ErrorAsync(status, ct);
        }, cancellationToken);

    /// <summary>Sends, and on a 401 answers the registry's challenge (Basic, or a Bearer token for the scope) and sends once more.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> make, string scope, CancellationToken ct)
    {
        HttpResponseMessage response = await SendOnceAsync(make, scope, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        AuthenticationHeaderValue? challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        response.Dispose();
        if (challenge?.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) == true)
        {
            if (_credentials is null || _basic)
            {
                throw Unauthorized();
            }

            _basic = true;
        }
        else if (challenge?.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) == true)
        {
            _tokens[scope] = await FetchTokenAsync(challenge.Parameter ?? "", scope, ct);
        }
        else
        {
            throw Unauthorized();
        }

        response = await SendOnceAsync(make, scope, ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw Unauthorized();
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> make, string scope, CancellationToken ct)
    {
        using HttpRequestMessage request = make();
        if (!SameOrigin(request.RequestUri))
        {
            // A Location the registry gave (an upload session on a storage backend): no login goes there.
        }
        else if (_tokens.TryGetValue(scope, out string? token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (_basic && _credentials is not null)
        {
            request.Headers.Authorization = Basic(_credentials);
        }

        return await SendHttpAsync(request, ct);
    }

    /// <summary>
    /// One HTTP exchange. A TLS handshake that fails is not transient — most often a registry that speaks plain HTTP, or
    /// a certificate this host doesn't trust — so it ends at once with <c>TLS_FAILED</c> and what to set, not in retries.
    /// </summary>
    private async Task<HttpResponseMessage> SendHttpAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException)
        {
            string host = request.RequestUri!.IsDefaultPort ? request.RequestUri.Host : $"{request.RequestUri.Host}:{request.RequestUri.Port}";
            throw new RegistryException(0, "TLS_FAILED",
                $"The TLS handshake with {host} failed ({e.InnerException.Message}). If the registry speaks plain HTTP, name it in SMC_REGISTRY__INSECURE; otherwise make its certificate trusted on the control plane's host.",
                userError: true, e);
        }
    }

    /// <summary>
    /// Bounds the recoveries of one blob's upload: after <see cref="_recoveryAttempts"/> failed chunks in a row, or
    /// <see cref="StallLimit"/> without a chunk accepted, the push ends with <c>PUSH_STALLED</c>. Between two attempts it
    /// waits as the other retries do (exponential from the first delay, at most <see cref="MaxDelay"/>).
    /// </summary>
    private sealed class StallGuard(RegistryClient client)
    {
        private int _inRow;
        private long _since = System.Diagnostics.Stopwatch.GetTimestamp();

        public void Progressed()
        {
            _inRow = 0;
            _since = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        public async Task FailedAsync(Exception failure, long offset, CancellationToken ct)
        {
            _inRow++;
            TimeSpan stalled = System.Diagnostics.Stopwatch.GetElapsedTime(_since);
            if (_inRow > client._recoveryAttempts || stalled > client.StallLimit)
            {
                throw new RegistryException(failure is RegistryException r ? r.Status : 0, "PUSH_STALLED",
                    $"The registry failed {_inRow} chunk uploads in a row at byte {offset} over {stalled.TotalSeconds:F0} s (last: {failure.Message}); the push stops here.",
                    userError: false, failure);
            }

            double wait = Math.Min(client._firstDelay.TotalMilliseconds * Math.Pow(2, _inRow - 1), MaxDelay.TotalMilliseconds);
            await Task.Delay(TimeSpan.FromMilliseconds(wait), ct);
        }
    }

    /// <summary>The token endpoint of a Bearer challenge (<c>realm</c>, <c>service</c>, <c>scope</c>), with the credentials when there are some.</summary>
    private async Task<string> FetchTokenAsync(string parameters, string scope, CancellationToken ct)
    {
        Dictionary<string, string> p = ParseChallenge(parameters);
        if (!p.TryGetValue("realm", out string? realm))
        {
            throw new RegistryException(401, "UNAUTHORIZED", "The registry's Bearer challenge names no realm (token endpoint).");
        }

        if (!Uri.TryCreate(realm, UriKind.Absolute, out Uri? realmUri) || !_realmAllowed(realmUri))
        {
            throw new RegistryException(401, "REALM_NOT_ALLOWED",
                $"The registry's Bearer challenge sends the login to {(realmUri is null ? "an invalid address" : realmUri.GetLeftPart(UriPartial.Authority))}, which is neither the registry nor an allowed token server over https: nothing was sent. If it is the registry's token server, add its host to SMC_REGISTRY__ALLOWED.");
        }

        var query = new List<string>();
        if (p.TryGetValue("service", out string? service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        query.AddRange((p.GetValueOrDefault("scope") ?? scope).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => "scope=" + Uri.EscapeDataString(s)));
        using var request = new HttpRequestMessage(HttpMethod.Get, realm + (realm.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join('&', query));
        if (_credentials is not null)
        {
            request.Headers.Authorization = Basic(_credentials);
        }

        using HttpResponseMessage response = await SendHttpAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw (int)response.StatusCode is 401 or 403 ? Unauthorized() : await ErrorAsync(response, ct);
        }

        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return (body.RootElement.TryGetProperty("token", out JsonElement t) ? t : body.RootElement.GetProperty("access_token")).GetString()!;
    }

    /// <summary>Whether a request goes to the registry itself (scheme, host and port of the base address): only those carry the login.</summary>
    private bool SameOrigin(Uri? uri) =>
        uri is { IsAbsoluteUri: true } && uri.Scheme == _base.Scheme && string.Equals(uri.Host, _base.Host, StringComparison.OrdinalIgnoreCase) && uri.Port == _base.Port;

    internal static Dictionary<string, string> ParseChallenge(string parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < parameters.Length)
        {
            int eq = parameters.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            string key = parameters[i..eq].Trim().TrimStart(',').Trim();
            string value;
            if (eq + 1 < parameters.Length && parameters[eq + 1] == '"')
            {
                int close = parameters.IndexOf('"', eq + 2);
                close = close < 0 ? parameters.Length : close;
                value = parameters[(eq + 2)..close];
                i = close + 1;
            }
            else
            {
                int comma = parameters.IndexOf(',', eq + 1);
                comma = comma < 0 ? parameters.Length : comma;
                value = parameters[(eq + 1)..comma].Trim();
                i = comma;
            }

            result[key] = value;
            while (i < parameters.Length && parameters[i] is ',' or ' ')
            {
                i++;
            }
        }

        return result;
    }

    private RegistryException Unauthorized() => new(401, "UNAUTHORIZED", _credentials is null
        ? $"The registry {_base.Authority} needs credentials: give the job's registry username and password (or token)."
        : $"The registry {_base.Authority} refused the credentials of user '{_credentials.Username}': check the username and password (or token) and their push permission on the repository.");

    private static AuthenticationHeaderValue Basic(RegistryCredentials c) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.Username}:{c.Password}")));

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

/// <summary>The media types a push uses.</summary>
public static class OciMediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string LayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
}
