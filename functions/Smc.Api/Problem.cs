using Microsoft.AspNetCore.Http;
using Smc.Core.Errors;

namespace Smc.Api;

/// <summary>RFC 9457 problem details with the stable <c>code</c> the product contract promises.</summary>
public sealed record Problem(string Type, string Title, int Status, string Detail, string Code, string? Instance)
{
    public const string ContentType = "application/problem+json";

    public static Problem From(SmcException e, string? instance) =>
        new("urn:smc:error:" + e.Code, e.Code, e.Status, e.Message, e.Code, instance);

    public IResult ToResult() => Results.Json(this, ApiJson.Options, ContentType, Status);
}
