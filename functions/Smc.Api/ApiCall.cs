using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Smc.Api;

/// <summary>What a route handler gets: the request, its services, and who called.</summary>
public sealed class ApiCall(HttpContext http, IServiceProvider services, IReadOnlyDictionary<string, string?> routeValues)
{
    public HttpContext Http { get; } = http;

    public HttpRequest Request => Http.Request;

    public IServiceProvider Services { get; } = services;

    public CancellationToken CancellationToken => Http.RequestAborted;

    /// <summary>The source id of an authenticated agent (routes with <see cref="RouteAuth.Agent"/>).</summary>
    public string? SourceId { get; set; }

    /// <summary>The activation code presented (routes with <see cref="RouteAuth.ActivationCode"/>).</summary>
    public string? ActivationCode { get; set; }

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    /// <summary>The route's parameters by name (e.g. <c>id</c>).</summary>
    public IReadOnlyDictionary<string, string?> RouteValues => routeValues;

    public string Route(string name) =>
        routeValues.TryGetValue(name, out string? value) && value is not null
            ? value
            : throw new InvalidOperationException($"Route value '{name}' missing.");

    public string? Query(string name) => Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;

    /// <summary>Every value of a repeated query parameter (<c>?tag=a&amp;tag=b</c>), in order.</summary>
    public IEnumerable<string> Queries(string name) => Request.Query.TryGetValue(name, out var v) ? v.Where(x => x is not null).Select(x => x!) : [];
}
