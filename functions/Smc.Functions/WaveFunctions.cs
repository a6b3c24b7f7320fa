using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>HTTP triggers for waves: one per route of the shared table.</summary>
public sealed class WaveFunctions(FunctionsApi api)
{
    [Function("CreateWave")]
    public Task<IActionResult> CreateWave([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/waves")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("CreateWave", request, client, context);

    [Function("ListWaves")]
    public Task<IActionResult> ListWaves([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/waves")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ListWaves", request, client, context);

    [Function("GetWave")]
    public Task<IActionResult> GetWave([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/waves/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("GetWave", request, client, context);

    [Function("PatchWave")]
    public Task<IActionResult> PatchWave([HttpTrigger(AuthorizationLevel.Function, "patch", Route = "v1/waves/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("PatchWave", request, client, context);

    [Function("DeleteWave")]
    public Task<IActionResult> DeleteWave([HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/waves/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("DeleteWave", request, client, context);

    [Function("AddWaveMembers")]
    public Task<IActionResult> AddWaveMembers([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/waves/{id}/members")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AddWaveMembers", request, client, context);

    [Function("RemoveWaveMember")]
    public Task<IActionResult> RemoveWaveMember([HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/waves/{id}/members/{jobId}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("RemoveWaveMember", request, client, context);

    [Function("RunWaveAction")]
    public Task<IActionResult> RunWaveAction([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/waves/{id}/{action}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("RunWaveAction", request, client, context);
}
