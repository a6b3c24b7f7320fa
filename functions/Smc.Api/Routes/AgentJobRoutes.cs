using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Services;
using Smc.Wire.Agent;

namespace Smc.Api.Routes;

/// <summary>Agent routes about its own source's jobs (one-shot migrate, staging, progress, commit).</summary>
internal static class AgentJobRoutes
{
    public static IEnumerable<ApiRoute> All()
    {
        yield return new("AgentCreateJob", "POST", "v1/agent/jobs", RouteAuth.Agent, async call =>
        {
            CreateReplicationJobRequest request = await call.ReadJsonAsync<CreateReplicationJobRequest>();
            return Results.Json(await call.Get<AgentJobService>().CreateAndStartAsync(call.SourceId!, request, call.CancellationToken), ApiJson.Options, statusCode: 201);
        });
        yield return new("AgentGetJob", "GET", "v1/agent/jobs/{id}", RouteAuth.Agent, async call =>
            Results.Json(await call.Get<AgentJobService>().GetAsync(call.SourceId!, call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("AgentStagingCredentials", "POST", "v1/agent/jobs/{id}/staging-credentials", RouteAuth.Agent, async call =>
            Results.Json(await call.Get<AgentJobService>().StagingCredentialsAsync(call.SourceId!, call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("AgentProgress", "POST", "v1/agent/jobs/{id}/progress", RouteAuth.Agent, async call =>
        {
            ProgressReport report = await call.ReadJsonAsync<ProgressReport>();
            return Results.Json(await call.Get<AgentJobService>().ProgressAsync(call.SourceId!, call.Route("id"), report, call.CancellationToken), ApiJson.Options);
        });
        yield return new("AgentCommitRound", "POST", "v1/agent/jobs/{id}/rounds/{round}/commit", RouteAuth.Agent, async call =>
        {
            RoundCommitRequest request = await call.ReadJsonAsync<RoundCommitRequest>();
            await call.Get<AgentJobService>().CommitAsync(call.SourceId!, call.Route("id"), RoundNumber(call), request, call.CancellationToken);
            return Results.Accepted();
        });
        yield return new("AgentRoundFingerprints", "GET", "v1/agent/jobs/{id}/rounds/{round}/fingerprints", RouteAuth.Agent, async call =>
            Results.Stream(await call.Get<AgentJobService>().FingerprintsAsync(call.SourceId!, call.Route("id"), RoundNumber(call), call.CancellationToken), "application/json"));
        yield return new("AgentRoundListing", "GET", "v1/agent/jobs/{id}/rounds/{round}/listing", RouteAuth.Agent, async call =>
            Results.Bytes(await call.Get<AgentJobService>().ListingAsync(call.SourceId!, call.Route("id"), RoundNumber(call), call.CancellationToken), "application/json"));
        yield return new("AgentFailRound", "POST", "v1/agent/jobs/{id}/rounds/{round}/failure", RouteAuth.Agent, async call =>
        {
            RoundFailureRequest request = await call.ReadJsonAsync<RoundFailureRequest>();
            await call.Get<AgentJobService>().FailRoundAsync(call.SourceId!, call.Route("id"), RoundNumber(call), request, call.CancellationToken);
            return Results.Accepted();
        });
    }

    private static int RoundNumber(ApiCall call) =>
        int.TryParse(call.Route("round"), out int round) && round >= 0
            ? round
            : throw Smc.Core.Errors.SmcException.BadRequest(Smc.Core.Errors.ErrorCodes.RoundNotExpected, "round must be a whole number from 0.");
}
