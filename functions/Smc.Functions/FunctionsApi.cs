using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Smc.Api;

namespace Smc.Functions;

/// <summary>Runs a route of the shared table for an HTTP trigger: the only thing the triggers call.</summary>
public sealed class FunctionsApi(ApiDispatcher dispatcher)
{
    public async Task<IActionResult> RunAsync(string routeName, HttpRequest request, DurableTaskClient client, FunctionContext context)
    {
        var routeValues = context.BindingContext.BindingData
            .Where(kv => kv.Value is string)
            .ToDictionary(kv => kv.Key, kv => (string?)kv.Value, StringComparer.OrdinalIgnoreCase);
        using (AmbientDurableClient.Use(client))
        {
            IResult result = await dispatcher.InvokeAsync(ApiRoutes.ByName(routeName), request.HttpContext, routeValues);
            return new ResultAction(result);
        }
    }

    private sealed class ResultAction(IResult result) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context) => result.ExecuteAsync(context.HttpContext);
    }
}
