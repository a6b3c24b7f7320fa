using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Smc.Api.Compat;

namespace Smc.Functions;

/// <summary>HTTP triggers for access keys (one per route of the shared table) and the SMC-compatible API at <c>/api/smc</c>.</summary>
public sealed class AccessKeyFunctions(FunctionsApi api, SmcFacade smc)
{
    [Function("CreateAccessKey")]
    public Task<IActionResult> CreateAccessKey([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/access-keys")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("CreateAccessKey", request, client, context);

    [Function("ListAccessKeys")]
    public Task<IActionResult> ListAccessKeys([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/access-keys")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ListAccessKeys", request, client, context);

    [Function("DeleteAccessKey")]
    public Task<IActionResult> DeleteAccessKey([HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/access-keys/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("DeleteAccessKey", request, client, context);

    /// <summary>Signed by an access key, not a function key: anonymous to the Functions host.</summary>
    [Function("SmcCompatibleApi")]
    public async Task<IActionResult> SmcCompatibleApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = "smc")] HttpRequest request, [DurableClient] DurableTaskClient client)
    {
        using (AmbientDurableClient.Use(client))
        {
            IResult result = await smc.HandleAsync(request.HttpContext);
            return new ResultAction(result);
        }
    }

    private sealed class ResultAction(IResult result) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context) => result.ExecuteAsync(context.HttpContext);
    }
}
