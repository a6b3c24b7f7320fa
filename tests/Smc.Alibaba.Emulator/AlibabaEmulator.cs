using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Smc.Alibaba.Emulator;

/// <summary>
/// A local stand-in for Alibaba Cloud's ECS OpenAPI on loopback: every request is authenticated by
/// <see cref="RequestVerifier"/> (its own signature code), faults queued in <see cref="EmulatorState.Faults"/> are
/// answered first, and errors have the documented JSON shape (<c>RequestId</c>, <c>HostId</c>, <c>Code</c>,
/// <c>Message</c>). Operations: DescribeRegions, ImportImage, DescribeImages, DescribeTasks, DescribeTaskAttribute, DeleteImage, CancelTask,
/// RunInstances (see <see cref="EcsImages"/>); Container Registry's GetAuthorizationToken (Enterprise, RPC on <c>/</c>;
/// Personal, ROA <c>GET /tokens</c>); OSS in <see cref="OssEmulator"/>.
/// </summary>
public static class AlibabaEmulator
{
    public static WebApplication Build(EmulatorState state, string url)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        WebApplication app = builder.Build();
        var verifier = new RequestVerifier(state);
        var images = new EcsImages(state);
        var oss = new OssEmulator(state);
        state.OpenUploads = () => oss.OpenUploads;
        state.ImageIds = () => images.ImageIds;
        state.ImageTags = images.TagsOf;
        app.MapMethods("/{bucket}/{**key}", ["GET", "PUT", "POST", "DELETE", "HEAD"], (HttpContext http, string bucket, string key) => oss.HandleAsync(http, bucket, key));
        // Container Registry Personal Edition: the ROA route of GetAuthorizationToken (2016-06-07).
        app.MapGet("/tokens", (HttpContext http) =>
        {
            (string? action, Dictionary<string, string> parameters, (int Status, string Code, string Message)? error) = verifier.Verify(http.Request, []);
            if (error is { } e)
            {
                return Error(e.Status, e.Code, e.Message);
            }

            state.Calls.AddOrUpdate("GetAuthorizationToken(personal)", 1, (_, n) => n + 1);
            if (action != "GetAuthorizationToken" || Version(http, parameters) != "2016-06-07")
            {
                return Error(400, "InvalidAction.NotFound", $"GET /tokens is GetAuthorizationToken of version 2016-06-07, not {action} of {Version(http, parameters)}.");
            }

            return Ok(new { data = new { authorizationToken = state.AcrPassword, tempUserName = state.AcrUsername, expireDate = state.Clock.GetUtcNow().AddHours(1).ToUnixTimeMilliseconds() }, requestId = Emulated.RequestId() });
        });
        app.MapMethods("/", ["GET", "POST"], async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            (string? action, Dictionary<string, string> parameters, (int Status, string Code, string Message)? error) = verifier.Verify(http.Request, buffer.ToArray());
            if (error is { } e)
            {
                return Error(e.Status, e.Code, e.Message);
            }

            state.Calls.AddOrUpdate(action!, 1, (_, n) => n + 1);
            // A fault applies to the next call, or with "@Action" to the next call of that action (the queue waits for it).
            if (state.Faults.TryPeek(out string? next) && (!next.Contains('@', StringComparison.Ordinal) || next.EndsWith("@" + action, StringComparison.Ordinal))
                && state.Faults.TryDequeue(out string? fault))
            {
                if (fault.StartsWith("Throttling", StringComparison.Ordinal))
                {
                    http.Response.Headers["x-acs-retry-after"] = "50";
                    return Error(400, "Throttling", "Request was denied due to request throttling.");
                }

                return Error(500, "InternalError", "The request processing has failed due to some unknown error.");
            }

            try
            {
                return action switch
                {
                    "DescribeRegions" => Ok(new
                    {
                        RequestId = Emulated.RequestId(),
                        Regions = new { Region = Regions.Select(r => new { RegionId = r, LocalName = r, RegionEndpoint = $"ecs.{r}.aliyuncs.com", Status = "available" }) },
                    }),
                    "ImportImage" => Ok(images.ImportImage(parameters)),
                    "DescribeImages" => Ok(images.DescribeImages(parameters)),
                    "DescribeTaskAttribute" => Ok(images.DescribeTaskAttribute(parameters)),
                    "DeleteImage" => Ok(images.DeleteImage(parameters)),
                    "CancelTask" => Ok(images.CancelTask(parameters)),
                    "DescribeTasks" => Ok(images.DescribeTasks(parameters)),
                    "RunInstances" => Ok(images.RunInstances(parameters)),
                    "GetAuthorizationToken" when Version(http, parameters) != "2018-12-01" => Error(400, "InvalidVersion", $"GetAuthorizationToken on / is Container Registry Enterprise Edition's, version 2018-12-01, not {Version(http, parameters)}."),
                    "GetAuthorizationToken" when parameters.GetValueOrDefault("InstanceId") != state.AcrInstanceId => Error(404, "INSTANCE_NOT_EXIST", $"The instance {parameters.GetValueOrDefault("InstanceId")} does not exist."),
                    "GetAuthorizationToken" => Ok(new
                    {
                        RequestId = Emulated.RequestId(),
                        Code = "success",
                        IsSuccess = true,
                        TempUsername = state.AcrUsername,
                        AuthorizationToken = state.AcrPassword,
                        ExpireTime = state.Clock.GetUtcNow().AddHours(1).ToUnixTimeMilliseconds(),
                    }),
                    _ => Error(400, "InvalidAction.NotFound", $"Specified api '{action}' is not found."),
                };
            }
            catch (EcsError ecs)
            {
                return Error(ecs.Status, ecs.Code, ecs.Message);
            }
        });
        return app;
    }

    /// <summary>Starts the emulator on a loopback port the system picks; returns it and its base URL.</summary>
    public static async Task<(WebApplication App, Uri Url)> StartAsync(EmulatorState state)
    {
        WebApplication app = Build(state, "http://127.0.0.1:0");
        await app.StartAsync();
        string address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    private static readonly string[] Regions = ["cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1"];

    /// <summary>The API version a request names: the V3 header, or the RPC parameter.</summary>
    private static string Version(HttpContext http, Dictionary<string, string> parameters) =>
        http.Request.Headers["x-acs-version"].FirstOrDefault() ?? http.Request.Query["Version"].FirstOrDefault() ?? parameters.GetValueOrDefault("Version") ?? "";

    private static IResult Ok(object body) => Results.Text(JsonSerializer.Serialize(body), "application/json");

    private static IResult Error(int status, string code, string message) =>
        Results.Text(JsonSerializer.Serialize(new { RequestId = RequestId(), HostId = "ecs.aliyuncs.com", Code = code, Message = message }), "application/json", statusCode: status);

    private static string RequestId() => Emulated.RequestId();
}
