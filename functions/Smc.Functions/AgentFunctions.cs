using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>HTTP triggers: one per route of the shared table, each a one-liner. Agent routes are anonymous to the host
/// and authenticated by the shared dispatcher (bearer credential or activation code).</summary>
public sealed class AgentFunctions(FunctionsApi api)
{
    [Function("AgentRegister")]
    public Task<IActionResult> AgentRegister([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/register")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentRegister", request, client, context);

    [Function("AgentHeartbeat")]
    public Task<IActionResult> AgentHeartbeat([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/heartbeat")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentHeartbeat", request, client, context);

    [Function("AgentPreflight")]
    public Task<IActionResult> AgentPreflight([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/preflight")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentPreflight", request, client, context);

    [Function("AgentStagingProbe")]
    public Task<IActionResult> AgentStagingProbe([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/staging-probe")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentStagingProbe", request, client, context);

    [Function("AgentCommands")]
    public Task<IActionResult> AgentCommands([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/agent/commands")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentCommands", request, client, context);

    [Function("AgentInstallScript")]
    public Task<IActionResult> AgentInstallScript([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/agent/install.sh")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentInstallScript", request, client, context);

    [Function("AgentDownload")]
    public Task<IActionResult> AgentDownload([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/agent/download/{runtime}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentDownload", request, client, context);

    [Function("UploadAgentPackage")]
    public Task<IActionResult> UploadAgentPackage([HttpTrigger(AuthorizationLevel.Function, "put", Route = "v1/agent-packages/{runtime}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("UploadAgentPackage", request, client, context);

    [Function("AgentCreateJob")]
    public Task<IActionResult> AgentCreateJob([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/jobs")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentCreateJob", request, client, context);

    [Function("AgentGetJob")]
    public Task<IActionResult> AgentGetJob([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/agent/jobs/{id}")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentGetJob", request, client, context);

    [Function("AgentStagingCredentials")]
    public Task<IActionResult> AgentStagingCredentials([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/jobs/{id}/staging-credentials")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentStagingCredentials", request, client, context);

    [Function("AgentProgress")]
    public Task<IActionResult> AgentProgress([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/jobs/{id}/progress")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentProgress", request, client, context);

    [Function("AgentCommitRound")]
    public Task<IActionResult> AgentCommitRound([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/jobs/{id}/rounds/{round}/commit")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentCommitRound", request, client, context);

    [Function("AgentRoundFingerprints")]
    public Task<IActionResult> AgentRoundFingerprints([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/agent/jobs/{id}/rounds/{round}/fingerprints")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentRoundFingerprints", request, client, context);

    [Function("AgentRoundListing")]
    public Task<IActionResult> AgentRoundListing([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/agent/jobs/{id}/rounds/{round}/listing")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentRoundListing", request, client, context);

    [Function("AgentFailRound")]
    public Task<IActionResult> AgentFailRound([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/agent/jobs/{id}/rounds/{round}/failure")] HttpRequest request, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        api.RunAsync("AgentFailRound", request, client, context);
}
