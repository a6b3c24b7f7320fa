using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Smc.Wire.Agent;
using Smc.Wire.Staging;

namespace Smc.Agent.Control;

/// <summary>The agent's side of the agent-only routes (<c>/api/v1/agent/…</c>).</summary>
internal sealed class ControlPlaneClient : IDisposable
{
    private readonly HttpClient _http;

    public ControlPlaneClient(string server, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(server.TrimEnd('/') + "/", UriKind.Absolute, out Uri? baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            throw new AgentException(ExitCodes.Usage, $"--server '{server}' is not an http(s) URL, e.g. http://10.0.0.5:7071.");
        }

        _http = new HttpClient { BaseAddress = baseUri, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Add(AgentApi.VersionHeader, AgentApi.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("smc-agent", AgentInfo.Version));
    }

    /// <summary>Retries transient failures a few times with backoff (for one-shot commands).</summary>
    public static ResiliencePipeline ShortRetry { get; } = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<ControlPlaneException>(e => e.IsTransient),
            MaxRetryAttempts = 4,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromSeconds(1),
        })
        .Build();

    public Task<RegisterResponse> RegisterAsync(string activationCode, RegisterRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<RegisterRequest, RegisterResponse>(AgentApi.RegisterPath, activationCode, request, cancellationToken);

    public Task<HeartbeatResponse> HeartbeatAsync(string credential, HeartbeatRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<HeartbeatRequest, HeartbeatResponse>(AgentApi.HeartbeatPath, credential, request, cancellationToken);

    public Task PreflightAsync(string credential, Smc.Wire.Boot.PreflightReport report, CancellationToken cancellationToken = default) =>
        PostAsync<Smc.Wire.Boot.PreflightReport, JsonElement?>(AgentApi.PreflightPath, credential, report, cancellationToken);

    public Task<StagingProbe> StagingProbeAsync(string credential, CancellationToken cancellationToken = default) =>
        PostAsync<object, StagingProbe>(AgentApi.StagingProbePath, credential, new { }, cancellationToken);

    public Task<StagingCredentials> StagingCredentialsAsync(string credential, string jobId, CancellationToken cancellationToken = default) =>
        PostAsync<object, StagingCredentials>(AgentApi.StagingCredentialsPath(jobId), credential, new { }, cancellationToken);

    /// <summary>
    /// Saves a committed round's fingerprints document (<see cref="RoundFingerprints"/>) to <paramref name="path"/> as it
    /// arrives: it lists every chunk of the round, so the agent reads it from the file (<c>FingerprintsDocument</c>)
    /// instead of holding it in memory.
    /// </summary>
    public async Task DownloadFingerprintsAsync(string credential, string jobId, int round, string path, CancellationToken cancellationToken = default)
    {
        using HttpResponseMessage response = await SendCoreAsync<object>(HttpMethod.Get, AgentApi.FingerprintsPath(jobId, round), credential, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        try
        {
            await body.CopyToAsync(file, cancellationToken);
        }
        catch (IOException e)
        {
            throw new ControlPlaneException(0, "Unreachable", $"The control plane at {_http.BaseAddress} broke off the fingerprints of round {round}: {e.Message}", e);
        }
    }

    public async Task<Smc.Files.TreeListing> ListingAsync(string credential, string jobId, int round, CancellationToken cancellationToken = default) =>
        Smc.Files.TreeListing.Deserialize(System.Text.Encoding.UTF8.GetBytes((await SendAsync<object, JsonElement>(HttpMethod.Get, AgentApi.ListingPath(jobId, round), credential, null, cancellationToken)).GetRawText()));

    /// <summary>Reports progress; the answer says what the round must do now (its upload limit), or null from an older control plane.</summary>
    public Task<ProgressAnswer?> ProgressAsync(string credential, string jobId, ProgressReport report, CancellationToken cancellationToken = default) =>
        PostAsync<ProgressReport, ProgressAnswer?>(AgentApi.ProgressPath(jobId), credential, report, cancellationToken);

    public Task FailRoundAsync(string credential, string jobId, int round, RoundFailureRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<RoundFailureRequest, JsonElement?>(AgentApi.FailurePath(jobId, round), credential, request, cancellationToken);

    public Task CommitAsync(string credential, string jobId, int round, RoundCommitRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<RoundCommitRequest, JsonElement?>(AgentApi.CommitPath(jobId, round), credential, request, cancellationToken);

    public Task<JsonElement> CreateJobAsync(string credential, JsonElement job, CancellationToken cancellationToken = default) =>
        PostAsync<JsonElement, JsonElement>(AgentApi.JobsPath, credential, job, cancellationToken);

    public Task<JsonElement> GetJobAsync(string credential, string jobId, CancellationToken cancellationToken = default) =>
        SendAsync<object, JsonElement>(HttpMethod.Get, AgentApi.JobPath(jobId), credential, null, cancellationToken);

    private Task<TResponse> PostAsync<TRequest, TResponse>(string path, string bearer, TRequest body, CancellationToken cancellationToken) =>
        SendAsync<TRequest, TResponse>(HttpMethod.Post, path, bearer, body, cancellationToken);

    private async Task<TResponse> SendAsync<TRequest, TResponse>(HttpMethod method, string path, string bearer, TRequest? body, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendCoreAsync(method, path, bearer, body, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.Content.Headers.ContentLength == 0 || response.StatusCode is System.Net.HttpStatusCode.NoContent or System.Net.HttpStatusCode.Accepted)
        {
            return default!;
        }

        return await response.Content.ReadFromJsonAsync<TResponse>(AgentJson.Options, cancellationToken)
            ?? throw new ControlPlaneException((int)response.StatusCode, "EmptyResponse", "The control plane sent an empty answer.");
    }

    /// <summary>Sends a request; returns the response when it succeeded, throws <see cref="ControlPlaneException"/> with the problem's code otherwise.</summary>
    private async Task<HttpResponseMessage> SendCoreAsync<TRequest>(HttpMethod method, string path, string bearer, TRequest? body, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(method, path)
        {
            Content = body is null ? null : JsonContent.Create(body, options: AgentJson.Options),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, completion, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ControlPlaneException(0, "Unreachable", $"Can't reach the control plane at {_http.BaseAddress}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ControlPlaneException(0, "Timeout", $"The control plane at {_http.BaseAddress} did not answer in {_http.Timeout.TotalSeconds:0} s.", e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            string code = "Http" + (int)response.StatusCode, detail = response.ReasonPhrase ?? "";
            try
            {
                using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                code = problem.RootElement.TryGetProperty("code", out JsonElement c) ? c.GetString() ?? code : code;
                detail = problem.RootElement.TryGetProperty("detail", out JsonElement d) ? d.GetString() ?? detail : detail;
            }
            catch (JsonException)
            {
                // Not problem+json (a proxy, say): keep the status line.
            }

            throw new ControlPlaneException((int)response.StatusCode, code, $"{code}: {detail}");
        }
    }

    public void Dispose() => _http.Dispose();
}
