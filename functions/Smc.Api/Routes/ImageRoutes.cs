using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Services;

namespace Smc.Api.Routes;

internal static class ImageRoutes
{
    public static IEnumerable<ApiRoute> All()
    {
        yield return new("GetDashboard", "GET", "v1/dashboard", RouteAuth.Public, _ =>
            Task.FromResult(Results.Bytes(Dashboard.Html, "text/html; charset=utf-8")));
        yield return new("GetOpenApi", "GET", "v1/openapi.json", RouteAuth.Public, _ =>
            Task.FromResult(Results.Bytes(OpenApiDocument.Json, "application/json")));
        yield return new("GetOverview", "GET", "v1/overview", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<OverviewService>().GetAsync(call.CancellationToken), ApiJson.Options));
        yield return new("ListImages", "GET", "v1/images", RouteAuth.Operator, async call =>
        {
            var page = await call.Get<ImageService>().ListAsync(call.Query("jobId"), PageRequest.Parse(call.Query("pageNumber"), call.Query("pageSize")), call.CancellationToken);
            return Results.Json(new { page.TotalCount, page.PageNumber, page.PageSize, images = page.Items }, ApiJson.Options);
        });
        yield return new("GetImage", "GET", "v1/images/{id}", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<ImageService>().GetAsync(call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("DownloadImageDisk", "GET", "v1/images/{id}/disks/{index}", RouteAuth.Operator, async call =>
        {
            (Stream content, string name) = await call.Get<ImageService>().OpenDiskAsync(call.Route("id"), call.Route("index"), call.Query("format"), call.CancellationToken);
            return Results.Stream(content, "application/octet-stream", name, enableRangeProcessing: true);
        });
    }
}
