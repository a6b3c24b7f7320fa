using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Services;

namespace Smc.Api.Routes;

internal static class AccessTokenRoutes
{
    public static IEnumerable<ApiRoute> All()
    {
        yield return new("CreateAccessToken", "POST", "v1/access-tokens", RouteAuth.Operator, async call =>
        {
            CreateAccessTokenRequest request = await call.ReadJsonAsync<CreateAccessTokenRequest>();
            CreatedAccessToken created = await call.Get<AccessTokenService>().CreateAsync(request, call.CancellationToken);
            return Results.Json(created, ApiJson.Options, statusCode: 201);
        });
        yield return new("ListAccessTokens", "GET", "v1/access-tokens", RouteAuth.Operator, async call =>
        {
            var page = await call.Get<AccessTokenService>().ListAsync(PageRequest.Parse(call.Query("pageNumber"), call.Query("pageSize")), call.CancellationToken);
            return Results.Json(new { page.TotalCount, page.PageNumber, page.PageSize, accessTokens = page.Items }, ApiJson.Options);
        });
        yield return new("DisableAccessToken", "POST", "v1/access-tokens/{id}/disable", RouteAuth.Operator, async call =>
            Results.Json(await call.Get<AccessTokenService>().DisableAsync(call.Route("id"), call.CancellationToken), ApiJson.Options));
        yield return new("DeleteAccessToken", "DELETE", "v1/access-tokens/{id}", RouteAuth.Operator, async call =>
        {
            await call.Get<AccessTokenService>().DeleteAsync(call.Route("id"), call.CancellationToken);
            return Results.NoContent();
        });
    }
}
