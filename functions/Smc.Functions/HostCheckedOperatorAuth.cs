using Microsoft.AspNetCore.Http;
using Smc.Api;

namespace Smc.Functions;

/// <summary>
/// In Azure Functions the host itself checks <c>x-functions-key</c> on operator routes
/// (<c>AuthorizationLevel.Function</c>) before the trigger runs, so a request that got here is the operator's.
/// </summary>
internal sealed class HostCheckedOperatorAuth : IOperatorAuth
{
    public Task<bool> IsOperatorAsync(HttpRequest request, CancellationToken cancellationToken = default) => Task.FromResult(true);
}
