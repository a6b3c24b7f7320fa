using System.Net;
using Smc.Api;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>Every route of the route table refuses callers without the right kind of credential (so a new route can't slip by).</summary>
public sealed class AuthTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    public static TheoryData<string> Routes() => [.. ApiRoutes.All.Select(r => r.Name)];

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Route_NoCredential_Refused(string name)
    {
        ApiRoute route = ApiRoutes.ByName(name);
        Reply reply = await Send(fx.Control.Anonymous(), route);
        if (route.Auth == RouteAuth.Public)
        {
            // Only the API's description and the (data-free) dashboard page are public, and only as GETs.
            Assert.Contains(route.Name, new[] { "GetOpenApi", "GetDashboard" });
            Assert.Equal("GET", route.Method);
            reply.Expect(HttpStatusCode.OK);
            return;
        }

        (HttpStatusCode status, string code) = route.Auth switch
        {
            RouteAuth.Operator => (HttpStatusCode.Unauthorized, "Unauthorized.OperatorKey"),
            RouteAuth.Agent => (HttpStatusCode.Unauthorized, "Unauthorized.AgentCredential"),
            _ => (HttpStatusCode.Unauthorized, "InvalidActivationCode"),
        };
        reply.ExpectProblem(status, code);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Route_WrongKindOfCredential_Refused(string name)
    {
        ApiRoute route = ApiRoutes.ByName(name);
        var (code, _, config) = await fx.SharedAgentAsync();
        string agentCredential = Flows.Credential(config);

        switch (route.Auth)
        {
            case RouteAuth.Operator:
                (await Send(fx.Control.Agent(agentCredential), route)).ExpectProblem(HttpStatusCode.Forbidden, "Forbidden.CredentialKind");
                (await Send(new ApiClient(fx.Control.Url, operatorKey: "op.not-the-key"), route)).ExpectProblem(HttpStatusCode.Unauthorized, "Unauthorized.OperatorKey");
                (await Send(new ApiClient(fx.Control.Url, operatorKey: agentCredential), route)).ExpectProblem(HttpStatusCode.Unauthorized, "Unauthorized.OperatorKey");
                break;
            case RouteAuth.Agent:
                (await Send(fx.Control.Operator(), route)).ExpectProblem(HttpStatusCode.Forbidden, "Forbidden.CredentialKind");
                (await Send(fx.Control.Agent(code), route)).ExpectProblem(HttpStatusCode.Unauthorized, "Unauthorized.AgentCredential");
                break;
            case RouteAuth.ActivationCode:
                (await Send(fx.Control.Agent(agentCredential), route)).ExpectProblem(HttpStatusCode.Unauthorized, "InvalidActivationCode");
                (await Send(new ApiClient(fx.Control.Url, bearer: ControlPlane.OperatorKey), route)).ExpectProblem(HttpStatusCode.Unauthorized, "InvalidActivationCode");
                break;
        }
    }

    [Fact]
    public async Task UnknownApiRoute_404Problem()
    {
        (await fx.Control.Operator().GetAsync("/api/v1/no-such-thing")).ExpectProblem(HttpStatusCode.NotFound, "InvalidRoute.NotFound");
    }

    private static Task<Reply> Send(ApiClient api, ApiRoute route)
    {
        string id = route.Template.Contains("access-tokens", StringComparison.Ordinal) ? "at-aaaaaaaaaaaaaaaa"
            : route.Template.Contains("source-servers", StringComparison.Ordinal) ? "s-aaaaaaaaaaaaaaaa"
            : route.Template.Contains("images", StringComparison.Ordinal) ? "m-aaaaaaaaaaaaaaaa" : "j-aaaaaaaaaaaaaaaa";
        string path = "/api/" + route.Template
            .Replace("{id}", id, StringComparison.Ordinal)
            .Replace("{runtime}", "linux-x64", StringComparison.Ordinal)
            .Replace("{round}", "0", StringComparison.Ordinal)
            .Replace("{index}", "0", StringComparison.Ordinal);
        return api.SendAsync(new HttpMethod(route.Method), path, null, route.Method is "GET" or "DELETE" ? null : "{}");
    }
}
