using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Smc.Core.Errors;
using Smc.Core.Services;

namespace Smc.Api;

/// <summary>
/// Runs one route for either host: authenticates the caller by the route's <see cref="RouteAuth"/>,
/// calls the handler, and turns every failure into problem+json with a code (never a bare 5xx).
/// </summary>
public sealed class ApiDispatcher(IOperatorAuth operatorAuth, ILogger<ApiDispatcher> logger)
{
    /// <param name="routeValues">The route's parameters; null takes them from the ASP.NET Core request (standalone host).</param>
    public async Task<IResult> InvokeAsync(ApiRoute route, HttpContext http, IReadOnlyDictionary<string, string?>? routeValues = null)
    {
        routeValues ??= http.Request.RouteValues.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString());
        var call = new ApiCall(http, http.RequestServices, routeValues);
        try
        {
            await AuthenticateAsync(route, call);
            return await route.Handler(call);
        }
        catch (SmcException e)
        {
            return Problem.From(e, http.Request.Path).ToResult();
        }
        catch (BadHttpRequestException e)
        {
            return Problem.From(SmcException.BadRequest(ErrorCodes.MalformedJson, e.Message), http.Request.Path).ToResult();
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.StatusCode(499);
        }
        catch (Exception e)
        {
            logger.RouteFailed(e, route.Name);
            return Problem.From(new SmcException(500, ErrorCodes.InternalError, "The control plane failed unexpectedly; nothing was committed by this call. Retry, and report it if it persists."), http.Request.Path).ToResult();
        }
    }

    private async Task AuthenticateAsync(ApiRoute route, ApiCall call)
    {
        string? bearer = Bearer(call.Request);
        bool hasKey = call.Request.Headers.ContainsKey(OperatorKeyAuth.Header);
        switch (route.Auth)
        {
            case RouteAuth.Operator:
                if (await operatorAuth.IsOperatorAsync(call.Request, call.CancellationToken))
                {
                    return;
                }

                if (!hasKey && bearer is not null)
                {
                    throw SmcException.Forbidden(ErrorCodes.WrongCredentialKind, "This route is for operators: send the operator key in x-functions-key, not an agent credential.");
                }

                throw SmcException.Unauthorized(ErrorCodes.OperatorKeyMissing, "Send the operator key in the x-functions-key header (printed once at the control plane's first start, or set with SMC_ADMIN_KEY).");

            case RouteAuth.Agent:
                if (bearer is null && hasKey)
                {
                    throw SmcException.Forbidden(ErrorCodes.WrongCredentialKind, "This route is for agents: send the source credential as 'Authorization: Bearer …', not the operator key.");
                }

                call.SourceId = await call.Get<SourceServerService>().AuthenticateAgentAsync(bearer, call.CancellationToken);

                // A route about a job answers only the job's own source, before its body is read: another source's agent
                // learns nothing about it, not even which fields it would take.
                if (call.RouteValues.TryGetValue("id", out string? jobId))
                {
                    await call.Get<AgentJobService>().GetAsync(call.SourceId, jobId ?? "", call.CancellationToken);
                }

                return;

            case RouteAuth.ActivationCode:
                call.ActivationCode = bearer ?? call.Query("code");
                if (string.IsNullOrWhiteSpace(call.ActivationCode))
                {
                    throw SmcException.Unauthorized(ErrorCodes.ActivationCodeInvalid, "Send the activation code as 'Authorization: Bearer CODE' or ?code=CODE (create one with POST /api/v1/access-tokens).");
                }

                // Checked before the body is read, so a caller without a valid code learns nothing else.
                await call.Get<AccessTokenService>().CheckAsync(call.ActivationCode, call.CancellationToken);
                return;

            case RouteAuth.Public:
                return;
        }
    }

    private static string? Bearer(HttpRequest request)
    {
        string header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }
}
