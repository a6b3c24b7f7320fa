using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Services;

namespace Smc.Api.Routes;

/// <summary>Access key pairs for the SMC-compatible API (<c>/smc/</c>): the secret is in the create answer only.</summary>
internal static class AccessKeyRoutes
{
    public static IEnumerable<ApiRoute> All()
    {
        yield return new("CreateAccessKey", "POST", "v1/access-keys", RouteAuth.Operator, async call =>
        {
            CreateAccessKeyRequest request = await call.ReadJsonOrDefaultAsync(new CreateAccessKeyRequest());
            return Results.Json(await call.Get<AccessKeyService>().CreateAsync(request.Name ?? "smc-compat", call.CancellationToken), ApiJson.Options, statusCode: 201);
        });
        yield return new("ListAccessKeys", "GET", "v1/access-keys", RouteAuth.Operator, async call =>
        {
            Page<AccessKeyView> page = await call.Get<AccessKeyService>().ListAsync(PageRequest.Parse(call.Query("pageNumber"), call.Query("pageSize")), call.CancellationToken);
            return Results.Json(new { page.TotalCount, page.PageNumber, page.PageSize, accessKeys = page.Items }, ApiJson.Options);
        });
        yield return new("DeleteAccessKey", "DELETE", "v1/access-keys/{id}", RouteAuth.Operator, async call =>
        {
            await call.Get<AccessKeyService>().DeleteAsync(call.Route("id"), call.CancellationToken);
            return Results.NoContent();
        });
    }
}

/// <summary><c>POST /api/v1/access-keys</c>.</summary>
public sealed class CreateAccessKeyRequest
{
    public string? Name { get; init; }
}
