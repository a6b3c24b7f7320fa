using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Services;

namespace Smc.Api.Routes;

/// <summary>Job templates (issue 19): named job values that jobs are created from with <c>templateId</c>.</summary>
internal static class JobTemplateRoutes
{
    public static IEnumerable<ApiRoute> All()
    {
        yield return new("CreateJobTemplate", "POST", "v1/job-templates", RouteAuth.Operator, async call =>
        {
            JobTemplateRequest request = await call.ReadJsonAsync<JobTemplateRequest>();
            return Results.Json(await call.Get<JobTemplateService>().CreateAsync(request, call.CancellationToken), ApiJson.Options, statusCode: 201);
        });
        yield return new("ListJobTemplates", "GET", "v1/job-templates", RouteAuth.Operator, async call =>
        {
            var page = await call.Get<JobTemplateService>().ListAsync(call.Query("name"), PageRequest.Parse(call.Query("pageNumber"), call.Query("pageSize")), TagFilter.Parse(call.Queries("tag")), call.CancellationToken);
            return Results.Json(new { page.TotalCount, page.PageNumber, page.PageSize, jobTemplates = page.Items }, ApiJson.Options);
        });
        yield return new("GetJobTemplate", "GET", "v1/job-templates/{id}", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<JobTemplateService>().GetAsync(call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("PatchJobTemplate", "PATCH", "v1/job-templates/{id}", RouteAuth.Operator, async call =>
        {
            JobTemplateRequest request = await call.ReadJsonAsync<JobTemplateRequest>();
            return Results.Json(await call.Get<JobTemplateService>().PatchAsync(call.Route("id"), request, call.CancellationToken), ApiJson.Options);
        });
        yield return new("DeleteJobTemplate", "DELETE", "v1/job-templates/{id}", RouteAuth.Operator, async call =>
        {
            await call.Get<JobTemplateService>().DeleteAsync(call.Route("id"), call.CancellationToken);
            return Results.NoContent();
        });
    }
}
