using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Services;

namespace Smc.Api.Routes;

/// <summary>
/// Waves (issue 19): CRUD with their roll-up, membership, and actions that fan out to the wave's jobs through the batch
/// path (<see cref="BatchRoutes"/>): each job gets the result its single call would have had.
/// </summary>
internal static class WaveRoutes
{
    public static readonly string[] Actions = ["start", "stop", "cutover", "delete", "pause", "resume"];

    public static IEnumerable<ApiRoute> All()
    {
        yield return new("CreateWave", "POST", "v1/waves", RouteAuth.Operator, async call =>
        {
            WaveRequest request = await call.ReadJsonAsync<WaveRequest>();
            return Results.Json(View(await call.Get<WaveService>().CreateAsync(request, call.CancellationToken)), ApiJson.Options, statusCode: 201);
        });
        yield return new("ListWaves", "GET", "v1/waves", RouteAuth.Operator, async call =>
        {
            var page = await call.Get<WaveService>().ListAsync(call.Query("name"), PageRequest.Parse(call.Query("pageNumber"), call.Query("pageSize")), TagFilter.Parse(call.Queries("tag")), call.CancellationToken);
            return Results.Json(new { page.TotalCount, page.PageNumber, page.PageSize, waves = page.Items.Select(View) }, ApiJson.Options);
        });
        yield return new("GetWave", "GET", "v1/waves/{id}", RouteAuth.Operator, async call =>
            Results.Json(View(await call.Get<WaveService>().GetAsync(call.Route("id"), call.CancellationToken)), ApiJson.Options));
        yield return new("PatchWave", "PATCH", "v1/waves/{id}", RouteAuth.Operator, async call =>
        {
            WaveRequest request = await call.ReadJsonAsync<WaveRequest>();
            return Results.Json(View(await call.Get<WaveService>().PatchAsync(call.Route("id"), request, call.CancellationToken)), ApiJson.Options);
        });
        yield return new("DeleteWave", "DELETE", "v1/waves/{id}", RouteAuth.Operator, async call =>
        {
            await call.Get<WaveService>().DeleteAsync(call.Route("id"), call.CancellationToken);
            return Results.NoContent();
        });
        yield return new("AddWaveMembers", "POST", "v1/waves/{id}/members", RouteAuth.Operator, async call =>
        {
            WaveMembersRequest request = await call.ReadJsonAsync<WaveMembersRequest>();
            List<(string Id, bool BySource)> given = [.. (request.JobIds ?? []).Select(j => (j, false)), .. (request.SourceIds ?? []).Select(s => (s, true))];
            if (given.Count is 0 or > BatchRoutes.MaxOperations)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidWave, $"Give 1–{BatchRoutes.MaxOperations} jobIds or sourceIds.");
            }

            WaveService waves = call.Get<WaveService>();
            string waveId = call.Route("id");
            await waves.EnsureExistsAsync(waveId, call.CancellationToken); // 404 for the whole call, not per member
            var results = new List<object>();
            for (int i = 0; i < given.Count; i++)
            {
                (string id, bool bySource) = given[i];
                BatchResult r = await BatchRoutes.GuardAsync(call, i, bySource ? null : id, async () =>
                {
                    string jobId = bySource ? await waves.JobOfSourceAsync(id, call.CancellationToken) : id;
                    await waves.AddMemberAsync(waveId, jobId, call.CancellationToken);
                    return (200, jobId);
                });
                results.Add(bySource ? new { r.Index, r.Status, r.JobId, SourceId = id, r.Error } : r);
            }

            return Results.Json(new { results }, ApiJson.Options);
        });
        yield return new("RemoveWaveMember", "DELETE", "v1/waves/{id}/members/{jobId}", RouteAuth.Operator, async call =>
        {
            await call.Get<WaveService>().RemoveMemberAsync(WaveService.Check(call.Route("id")), call.Route("jobId"), call.CancellationToken);
            return Results.NoContent();
        });
        yield return new("RunWaveAction", "POST", "v1/waves/{id}/{action}", RouteAuth.Operator, async call =>
        {
            string action = call.Route("action");
            if (!Actions.Contains(action))
            {
                throw SmcException.NotFound(ErrorCodes.InvalidWave, $"Unknown wave action '{action}': use {string.Join(", ", Actions)}.");
            }

            CutoverRequest cutover = action == "cutover" ? await call.ReadJsonOrDefaultAsync(new CutoverRequest()) : new CutoverRequest();
            List<string> members = await call.Get<WaveService>().MemberIdsAsync(call.Route("id"), call.CancellationToken);
            BatchResult[] results = await BatchRoutes.RunAllAsync(call, [.. members.Select(jobId => new BatchOperation { Action = action, JobId = jobId, SyncData = cutover.SyncData })]);
            return Results.Json(new { results }, ApiJson.Options);
        });
    }

    /// <summary>A wave as the API shows it: its fields, then <c>rollup</c> (not its slot bookkeeping).</summary>
    private static object View(WaveView v) => new
    {
        v.Wave.WaveId,
        v.Wave.Name,
        v.Wave.Description,
        v.Wave.Tags,
        v.Wave.MaxConcurrentRounds,
        v.Wave.Window,
        v.Wave.BandwidthSchedule,
        v.Wave.CreatedAt,
        v.Wave.UpdatedAt,
        v.Rollup,
    };
}
