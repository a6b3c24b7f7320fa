using Microsoft.AspNetCore.Http;

namespace Smc.Api;

/// <summary>Decides whether a request carries the operator's credential.</summary>
public interface IOperatorAuth
{
    Task<bool> IsOperatorAsync(HttpRequest request, CancellationToken cancellationToken = default);
}
