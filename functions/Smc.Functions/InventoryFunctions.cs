using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>HTTP triggers for inventory import and export: one per route of the shared table.</summary>
public sealed class InventoryFunctions(FunctionsApi api)
{
    [Function("ImportInventory")]
    public Task<IActionResult> ImportInventory([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/imports")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ImportInventory", request, client, context);

    [Function("ExportInventory")]
    public Task<IActionResult> ExportInventory([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/exports")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ExportInventory", request, client, context);
}
