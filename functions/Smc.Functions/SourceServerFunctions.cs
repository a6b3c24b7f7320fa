using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>HTTP triggers: one per route of the shared table, each a one-liner. Agent routes are anonymous to the host
/// and authenticated by the shared dispatcher (bearer credential or activation code).</summary>
public sealed class SourceServerFunctions(FunctionsApi api)
{
    [Function("ListSourceServers")]
    public Task<IActionResult> ListSourceServers([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/source-servers")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ListSourceServers", request, client, context);

    [Function("GetSourceServer")]
    public Task<IActionResult> GetSourceServer([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/source-servers/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("GetSourceServer", request, client, context);

    [Function("PatchSourceServer")]
    public Task<IActionResult> PatchSourceServer([HttpTrigger(AuthorizationLevel.Function, "patch", Route = "v1/source-servers/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("PatchSourceServer", request, client, context);

    [Function("DeleteSourceServer")]
    public Task<IActionResult> DeleteSourceServer([HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/source-servers/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("DeleteSourceServer", request, client, context);
}
