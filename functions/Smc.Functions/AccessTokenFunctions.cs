using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>HTTP triggers: one per route of the shared table, each a one-liner. Agent routes are anonymous to the host
/// and authenticated by the shared dispatcher (bearer credential or activation code).</summary>
public sealed class AccessTokenFunctions(FunctionsApi api)
{
    [Function("CreateAccessToken")]
    public Task<IActionResult> CreateAccessToken([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/access-tokens")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("CreateAccessToken", request, client, context);

    [Function("ListAccessTokens")]
    public Task<IActionResult> ListAccessTokens([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/access-tokens")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ListAccessTokens", request, client, context);

    [Function("DisableAccessToken")]
    public Task<IActionResult> DisableAccessToken([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/access-tokens/{id}/disable")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("DisableAccessToken", request, client, context);

    [Function("DeleteAccessToken")]
    public Task<IActionResult> DeleteAccessToken([HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/access-tokens/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("DeleteAccessToken", request, client, context);
}
