using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Services;

namespace Smc.Api.Routes;

internal static class SourceServerRoutes
{
    public static IEnumerable<ApiRoute> All()
    {
        yield return new("ListSourceServers", "GET", "v1/source-servers", RouteAuth.Operator, async call =>
        {
            var page = await call.Get<SourceServerService>().ListAsync(
                call.Query("state"), call.Query("name"), PageRequest.Parse(call.Query("pageNumber"), call.Query("pageSize")), TagFilter.Parse(call.Queries("tag")), call.CancellationToken);
            return Results.Json(new { page.TotalCount, page.PageNumber, page.PageSize, sourceServers = page.Items }, ApiJson.Options);
        });
        yield return new("GetSourceServer", "GET", "v1/source-servers/{id}", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<SourceServerService>().GetAsync(call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("PatchSourceServer", "PATCH", "v1/source-servers/{id}", RouteAuth.Operator, async call =>
        {
            PatchSourceServerRequest request = await call.ReadJsonAsync<PatchSourceServerRequest>();
            return Results.Json(await call.Get<SourceServerService>().PatchAsync(call.Route("id"), request, call.CancellationToken), ApiJson.Options);
        });
        yield return new("DeleteSourceServer", "DELETE", "v1/source-servers/{id}", RouteAuth.Operator, async call =>
        {
            await call.Get<SourceServerService>().DeleteAsync(call.Route("id"), call.CancellationToken);
            return Results.NoContent();
        });
    }
}
