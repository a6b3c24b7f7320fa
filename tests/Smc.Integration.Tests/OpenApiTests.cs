using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Smc.Api;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// <c>GET /api/v1/openapi.json</c> from the running standalone host (issue 7): public, one operation per route of the
/// route table and nothing else (method, path, operationId, security), and valid for an independent validator
/// (@apidevtools/swagger-parser: the OpenAPI 3.1 schema and the spec's rules).
/// </summary>
public sealed class OpenApiTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task Document_ListsExactlyTheRouteTable_AndIsValidOpenApi()
    {
        Reply reply = (await new ApiClient(fx.Control.Url).GetAsync("/api/v1/openapi.json")).Expect(HttpStatusCode.OK);
        JsonNode doc = reply.Json;
        Assert.Equal("3.1.0", doc["openapi"]!.GetValue<string>());

        var documented = doc["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => $"{o.Key.ToUpperInvariant()} {p.Key} {o.Value!["operationId"]} {Security(o.Value!)}"))
            .Order(StringComparer.Ordinal).ToList();
        var routes = ApiRoutes.All
            .Select(r => $"{r.Method} /{r.Template} {r.Name} {r.Auth switch { RouteAuth.Operator => "operatorKey", RouteAuth.Agent => "agentCredential", RouteAuth.ActivationCode => "activationCode", _ => "" }}")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(routes, documented);

        // Bodies are described from the request types: the batch's operations, a job's fields.
        JsonNode schemas = doc["components"]!["schemas"]!;
        Assert.NotNull(schemas["BatchRequest"]!["properties"]!["operations"]);
        Assert.NotNull(schemas["CreateReplicationJobRequest"]!["properties"]!["excludePaths"]);

        string file = fx.Box.File("openapi.json");
        await File.WriteAllTextAsync(file, reply.Body);
        var psi = new ProcessStartInfo("node", [Path.Combine(Repo.Root, "scripts", "validate-openapi.mjs"), file])
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process node = Process.Start(psi)!;
        Task<string> stderr = node.StandardError.ReadToEndAsync();
        string stdout = await node.StandardOutput.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, $"swagger-parser: {stdout}{await stderr}");
        Assert.StartsWith("valid:", stdout, StringComparison.Ordinal);
    }

    private static string Security(JsonNode operation) =>
        string.Join(',', operation["security"]!.AsArray().SelectMany(s => s!.AsObject().Select(kv => kv.Key)));
}
