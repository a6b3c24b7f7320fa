using Microsoft.AspNetCore.Http;

namespace Smc.Api;

/// <summary>
/// One HTTP route of the control plane. <see cref="Name"/> is also the Functions app's function name, and
/// <see cref="Template"/> is relative to <c>/api/</c> in both hosts.
/// </summary>
public sealed record ApiRoute(string Name, string Method, string Template, RouteAuth Auth, Func<ApiCall, Task<IResult>> Handler);
