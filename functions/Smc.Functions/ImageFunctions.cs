using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>HTTP triggers for local images and the overview: one per route of the shared table.</summary>
public sealed class ImageFunctions(FunctionsApi api)
{
    [Function("GetDashboard")]
    public Task<IActionResult> GetDashboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/dashboard")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("GetDashboard", request, client, context);

    [Function("GetOpenApi")]
    public Task<IActionResult> GetOpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/openapi.json")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("GetOpenApi", request, client, context);

    [Function("GetOverview")]
    public Task<IActionResult> GetOverview([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/overview")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("GetOverview", request, client, context);

    [Function("ListImages")]
    public Task<IActionResult> ListImages([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/images")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ListImages", request, client, context);

    [Function("GetImage")]
    public Task<IActionResult> GetImage([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/images/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("GetImage", request, client, context);

    [Function("DownloadImageDisk")]
    public Task<IActionResult> DownloadImageDisk([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/images/{id}/disks/{index}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("DownloadImageDisk", request, client, context);
}
