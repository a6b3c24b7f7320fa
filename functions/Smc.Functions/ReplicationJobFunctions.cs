using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>HTTP triggers: one per route of the shared table, each a one-liner. Agent routes are anonymous to the host
/// and authenticated by the shared dispatcher (bearer credential or activation code).</summary>
public sealed class ReplicationJobFunctions(FunctionsApi api)
{
    [Function("CreateReplicationJob")]
    public Task<IActionResult> CreateReplicationJob([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/replication-jobs")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("CreateReplicationJob", request, client, context);

    [Function("ListReplicationJobs")]
    public Task<IActionResult> ListReplicationJobs([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/replication-jobs")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ListReplicationJobs", request, client, context);

    [Function("GetReplicationJob")]
    public Task<IActionResult> GetReplicationJob([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/replication-jobs/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("GetReplicationJob", request, client, context);

    [Function("ListReplicationJobRuns")]
    public Task<IActionResult> ListReplicationJobRuns([HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/replication-jobs/{id}/runs")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ListReplicationJobRuns", request, client, context);

    [Function("PatchReplicationJob")]
    public Task<IActionResult> PatchReplicationJob([HttpTrigger(AuthorizationLevel.Function, "patch", Route = "v1/replication-jobs/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("PatchReplicationJob", request, client, context);

    [Function("DeleteReplicationJob")]
    public Task<IActionResult> DeleteReplicationJob([HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/replication-jobs/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("DeleteReplicationJob", request, client, context);

    [Function("StartReplicationJob")]
    public Task<IActionResult> StartReplicationJob([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/replication-jobs/{id}/start")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("StartReplicationJob", request, client, context);

    [Function("StopReplicationJob")]
    public Task<IActionResult> StopReplicationJob([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/replication-jobs/{id}/stop")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("StopReplicationJob", request, client, context);

    [Function("PauseReplicationJob")]
    public Task<IActionResult> PauseReplicationJob([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/replication-jobs/{id}/pause")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("PauseReplicationJob", request, client, context);

    [Function("ResumeReplicationJob")]
    public Task<IActionResult> ResumeReplicationJob([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/replication-jobs/{id}/resume")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("ResumeReplicationJob", request, client, context);

    [Function("CutoverReplicationJob")]
    public Task<IActionResult> CutoverReplicationJob([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/replication-jobs/{id}/cutover")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("CutoverReplicationJob", request, client, context);

    [Function("BatchReplicationJobs")]
    public Task<IActionResult> BatchReplicationJobs([HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/replication-jobs:batch")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("BatchReplicationJobs", request, client, context);
}
