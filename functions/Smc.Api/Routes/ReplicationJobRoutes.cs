using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Services;

namespace Smc.Api.Routes;

internal static class ReplicationJobRoutes
{
    public static IEnumerable<ApiRoute> All()
    {
        yield return new("CreateReplicationJob", "POST", "v1/replication-jobs", RouteAuth.Operator, async call =>
        {
            CreateReplicationJobRequest request = await call.ReadJsonAsync<CreateReplicationJobRequest>();
            CreatedJob created = await call.Get<ReplicationJobService>().CreateAsync(request, call.CancellationToken);
            return Results.Json(new { created.JobId }, ApiJson.Options, statusCode: created.Replayed ? 200 : 201);
        });
        yield return new("ListReplicationJobs", "GET", "v1/replication-jobs", RouteAuth.Operator, async call =>
        {
            var page = await call.Get<ReplicationJobService>().ListAsync(
                call.Query("status"), call.Query("sourceId"), call.Query("name"),
                PageRequest.Parse(call.Query("pageNumber"), call.Query("pageSize")), TagFilter.Parse(call.Queries("tag")), call.Query("waveId"), call.CancellationToken);
            return Results.Json(new { page.TotalCount, page.PageNumber, page.PageSize, replicationJobs = page.Items }, ApiJson.Options);
        });
        yield return new("GetReplicationJob", "GET", "v1/replication-jobs/{id}", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<ReplicationJobService>().GetAsync(call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("ListReplicationJobRuns", "GET", "v1/replication-jobs/{id}/runs", RouteAuth.Operator, async call =>
        {
            var page = await call.Get<ReplicationJobService>().ListRunsAsync(call.Route("id"), PageRequest.Parse(call.Query("pageNumber"), call.Query("pageSize")), call.CancellationToken);
            return Results.Json(new { page.TotalCount, page.PageNumber, page.PageSize, replicationJobRuns = page.Items }, ApiJson.Options);
        });
        yield return new("PatchReplicationJob", "PATCH", "v1/replication-jobs/{id}", RouteAuth.Operator, async call =>
        {
            var patch = await call.ReadJsonElementAsync();
            return Results.Json(await call.Get<ReplicationJobService>().PatchAsync(call.Route("id"), patch, call.CancellationToken), ApiJson.Options);
        });
        yield return new("DeleteReplicationJob", "DELETE", "v1/replication-jobs/{id}", RouteAuth.Operator, async call =>
        {
            await call.Get<ReplicationJobService>().DeleteAsync(call.Route("id"), call.CancellationToken);
            return Results.NoContent();
        });
        yield return new("StartReplicationJob", "POST", "v1/replication-jobs/{id}/start", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<ReplicationJobService>().StartAsync(call.Route("id"), call.CancellationToken), ApiJson.Options, statusCode: 202));
        yield return new("StopReplicationJob", "POST", "v1/replication-jobs/{id}/stop", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<ReplicationJobService>().StopAsync(call.Route("id"), call.CancellationToken), ApiJson.Options, statusCode: 202));
        yield return new("PauseReplicationJob", "POST", "v1/replication-jobs/{id}/pause", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<JobPauseService>().PauseAsync(call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("ResumeReplicationJob", "POST", "v1/replication-jobs/{id}/resume", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<JobPauseService>().ResumeAsync(call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("CutoverReplicationJob", "POST", "v1/replication-jobs/{id}/cutover", RouteAuth.Operator, async call =>
        {
            CutoverRequest request = await call.ReadJsonOrDefaultAsync(new CutoverRequest());
            return Results.Json(await call.Get<ReplicationJobService>().CutoverAsync(call.Route("id"), request, call.CancellationToken), ApiJson.Options, statusCode: 202);
        });
    }
}
