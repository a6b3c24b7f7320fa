using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>A thin HTTP client for the control plane's API, as a script would use it.</summary>
internal sealed class ApiClient(string baseUrl, string? operatorKey = null, string? bearer = null)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    public string BaseUrl { get; } = baseUrl;

    public Task<Reply> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<Reply> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public Task<Reply> PostAsync(string path, object? body = null) => SendAsync(HttpMethod.Post, path, body);

    public Task<Reply> PatchAsync(string path, object body) => SendAsync(HttpMethod.Patch, path, body);

    public Task<Reply> PostTextAsync(string path, string text, string mediaType) => SendAsync(HttpMethod.Post, path, null, text, mediaType);

    public async Task<Reply> SendAsync(HttpMethod method, string path, object? body, string? rawBody = null, string mediaType = "application/json")
    {
        using var request = new HttpRequestMessage(method, BaseUrl + path);
        if (operatorKey is not null)
        {
            request.Headers.Add("x-functions-key", operatorKey);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        string? text = rawBody ?? (body is null ? null : body as string ?? JsonSerializer.Serialize(body, WebJson));
        if (text is not null)
        {
            request.Content = new StringContent(text, Encoding.UTF8, mediaType);
        }

        using HttpResponseMessage response = await Http.SendAsync(request);
        string content = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, content);
    }

    /// <summary>Polls <paramref name="path"/> until <paramref name="done"/> holds (synchronisation, not a sleep); fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonNode> WaitForAsync(string path, Func<JsonNode, bool> done, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        JsonNode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            Reply r = await GetAsync(path);
            if (r.Status == HttpStatusCode.OK)
            {
                last = r.Json;
                if (done(last))
                {
                    return last;
                }
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{path} did not reach the expected state in {timeout}; last: {last?.ToJsonString()}");
    }
}

internal sealed record Reply(HttpStatusCode Status, string? ContentType, string Body)
{
    public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("Empty body");

    public string? Code => ContentType == "application/problem+json" ? Json["code"]?.GetValue<string>() : null;

    public Reply Expect(HttpStatusCode status)
    {
        Assert.True(Status == status, $"Expected {(int)status} but got {(int)Status}: {Body}");
        return this;
    }

    /// <summary>Asserts a problem+json answer with the given status and code, and a message that says something.</summary>
    public Reply ExpectProblem(HttpStatusCode status, string code)
    {
        Assert.True(Status == status && Code == code, $"Expected {(int)status} {code} but got {(int)Status}: {Body}");
        Assert.False(string.IsNullOrWhiteSpace(Json["detail"]?.GetValue<string>()));
        return this;
    }
}
