using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>HTTP triggers for job templates: one per route of the shared table.</summary>
public sealed class JobTemplateFunctions(FunctionsApi api)
{
    [Function("CreateJobTemplate")]
    public Task<IActionResult> CreateJobTemplate([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/job-templates")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("CreateJobTemplate", request, client, context);

    [Function("ListJobTemplates")]
    public Task<IActionResult> ListJobTemplates([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/job-templates")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ListJobTemplates", request, client, context);

    [Function("GetJobTemplate")]
    public Task<IActionResult> GetJobTemplate([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/job-templates/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("GetJobTemplate", request, client, context);

    [Function("PatchJobTemplate")]
    public Task<IActionResult> PatchJobTemplate([HttpTrigger(AuthorizationLevel.Function, "patch", Route = "v1/job-templates/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("PatchJobTemplate", request, client, context);

    [Function("DeleteJobTemplate")]
    public Task<IActionResult> DeleteJobTemplate([HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/job-templates/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("DeleteJobTemplate", request, client, context);
}
