using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Smc.Wire.Agent;

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

    private async Task<TResponse> PostAsync<TRequest, TResponse>(string path, string bearer, TRequest body, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = JsonContent.Create(body, options: AgentJson.Options),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ControlPlaneException(0, "Unreachable", $"Can't reach the control plane at {_http.BaseAddress}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ControlPlaneException(0, "Timeout", $"The control plane at {_http.BaseAddress} did not answer in {_http.Timeout.TotalSeconds:0} s.", e);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return await response.Content.ReadFromJsonAsync<TResponse>(AgentJson.Options, cancellationToken)
                    ?? throw new ControlPlaneException((int)response.StatusCode, "EmptyResponse", "The control plane sent an empty answer.");
            }

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
